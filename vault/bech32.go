package vault

// bech32Encode writes data in Bech32 under the lowercase human-readable part
// hrp, as age writes its keys (BIP 173 without its 90-character limit).
//
// It exists for the reply key made with every thread: age's own encoder is
// written for clarity, and on a hybrid recipient (1,216 bytes, 1,960
// characters) it spent about a twelfth of a whole thread creation's CPU
// time, a third of what separated CreateThread from its raw floor. This one
// writes the same strings in one pass into one buffer. It is no new format:
// TestBech32 checks it against BIP 173's vectors and every reply key it
// writes against age's own String, and age parses each one back.
func bech32Encode(hrp string, data []byte) string {
	const charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
	b := make([]byte, 0, len(hrp)+1+(len(data)*8+4)/5+6)
	chk := uint32(1)
	for i := range len(hrp) {
		chk = bech32Step(chk, hrp[i]>>5)
	}
	chk = bech32Step(chk, 0)
	for i := range len(hrp) {
		chk = bech32Step(chk, hrp[i]&31)
	}
	b = append(b, hrp...)
	b = append(b, '1')
	// Eight bits in, five out; acc keeps more bits than it needs, and
	// only its lowest bits are read.
	var acc uint32
	bits := 0
	for _, x := range data {
		acc = acc<<8 | uint32(x)
		for bits += 8; bits >= 5; {
			bits -= 5
			v := byte(acc>>bits) & 31
			chk = bech32Step(chk, v)
			b = append(b, charset[v])
		}
	}
	if bits > 0 {
		v := byte(acc<<(5-bits)) & 31
		chk = bech32Step(chk, v)
		b = append(b, charset[v])
	}
	for range 6 {
		chk = bech32Step(chk, 0)
	}
	chk ^= 1
	for p := range 6 {
		b = append(b, charset[chk>>(5*(5-p))&31])
	}
	return string(b)
}

// bech32Step is one step of BIP 173's checksum (its polymod), with the
// five generator terms that the top five bits select looked up at once.
func bech32Step(chk uint32, v byte) uint32 {
	return (chk&0x1ffffff)<<5 ^ uint32(v) ^ bech32Gen[chk>>25&31]
}

var bech32Gen = func() (t [32]uint32) {
	gen := [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	for top := range t {
		for i, g := range gen {
			if top>>i&1 == 1 {
				t[top] ^= g
			}
		}
	}
	return t
}()

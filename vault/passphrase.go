package vault

import "filippo.io/age"

// PassphraseIdentity is age's passphrase (scrypt) identity that also notes
// whether the file it was given is sealed to a passphrase at all. age
// answers "no identity matched" both for a wrong passphrase and for a file
// sealed to keys (a team item, someone's age file); telling the second a
// wrong passphrase would send a lead hunting for one that cannot exist.
// Use one per file.
type PassphraseIdentity struct {
	id  *age.ScryptIdentity
	saw bool
}

// NewPassphraseIdentity returns the identity of passphrase, which must not
// be empty.
func NewPassphraseIdentity(passphrase string) (*PassphraseIdentity, error) {
	id, err := age.NewScryptIdentity(passphrase)
	if err != nil {
		return nil, err
	}
	return &PassphraseIdentity{id: id}, nil
}

// Unwrap implements age.Identity.
func (p *PassphraseIdentity) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	for _, s := range stanzas {
		p.saw = p.saw || s.Type == "scrypt"
	}
	return p.id.Unwrap(stanzas)
}

// SawPassphrase reports whether the file was sealed to a passphrase: when
// it was and did not open, the passphrase was wrong.
func (p *PassphraseIdentity) SawPassphrase() bool { return p.saw }

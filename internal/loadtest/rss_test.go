package loadtest

import (
	"os"
	"runtime"
	"testing"
)

func TestParseStatus(t *testing.T) {
	m, err := ParseStatus([]byte("Name:\tintake\nVmPeak:\t  9000 kB\nVmHWM:\t    2048 kB\nVmRSS:\t    1024 kB\nThreads:\t5\n"))
	if err != nil || m.RSS != 1024*1024 || m.HWM != 2048*1024 {
		t.Errorf("ParseStatus = %+v, %v", m, err)
	}
	if _, err := ParseStatus([]byte("Name:\tkthreadd\n")); err == nil {
		t.Error("status without VmRSS accepted")
	}
	if _, err := ParseStatus([]byte("VmHWM:\tlots kB\nVmRSS:\t1 kB\n")); err == nil {
		t.Error("bad number accepted")
	}
}

func TestReadMemorySelf(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc")
	}
	m, err := ReadMemory(os.Getpid())
	if err != nil || m.RSS <= 0 || m.HWM < m.RSS {
		t.Errorf("ReadMemory(self) = %+v, %v", m, err)
	}
}

package chaos

import "testing"

func TestEnvInt(t *testing.T) {
	for _, c := range []struct {
		set      bool
		val      string
		def, out int
	}{
		{false, "", 30, 30},
		{true, "1000", 30, 1000},
		{true, "", 30, 30},
		{true, "many", 30, 30},
		{true, "-2", 30, -2},
	} {
		if c.set {
			t.Setenv("SMARTPASS_TEST_ENVINT", c.val)
		}
		if got := EnvInt("SMARTPASS_TEST_ENVINT", c.def); got != c.out {
			t.Errorf("%q (set %t): %d, want %d", c.val, c.set, got, c.out)
		}
	}
}

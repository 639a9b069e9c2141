package admin

import "testing"

// TestRoles: each role may do exactly its duties.
func TestRoles(t *testing.T) {
	perms := []Permission{SeeDevices, ManageDevices, ManageStaff, ReadAudit}
	want := map[Role][4]bool{
		Administrator: {true, true, true, true},
		DeviceOfficer: {true, true, false, false},
		Auditor:       {true, false, false, true},
		"root":        {false, false, false, false},
	}
	for role, may := range want {
		for i, p := range perms {
			if got := role.May(p); got != may[i] {
				t.Errorf("%s may %d: %v, want %v", role, p, got, may[i])
			}
		}
	}
}

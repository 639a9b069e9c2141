package admin

import "testing"

// TestRoles: each role may do exactly its duties.
func TestRoles(t *testing.T) {
	perms := []Permission{SeeDevices, ManageDevices, ManageStaff, ReadAudit, ManageFacilities}
	want := map[Role][5]bool{
		Administrator: {true, true, true, true, true},
		DeviceOfficer: {true, true, false, false, false},
		Auditor:       {true, false, false, true, false},
		"root":        {false, false, false, false, false},
	}
	for role, may := range want {
		for i, p := range perms {
			if got := role.May(p); got != may[i] {
				t.Errorf("%s may %d: %v, want %v", role, p, got, may[i])
			}
		}
	}
}

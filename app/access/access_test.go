package access

import (
	"errors"
	"fmt"
	"testing"
)

func TestValidate(t *testing.T) {
	many := make([]string, 300)
	for i := range many {
		many[i] = fmt.Sprintf("tab.%d", i)
	}
	for _, tt := range []struct {
		name string
		r    Read
		ok   bool
	}{
		{"a search", Of("kaga-hq", Search, "", []string{"tab.1", "tab.2"}), true},
		{"a whole roster", Of("shelter-1", Export, "shelter-1", many), true},
		{"no facility", Read{What: Search}, false},
		{"unknown", Read{Facility: "f", What: "peek"}, false},
		{"too many named", Read{Facility: "f", What: Search, Records: many, Count: 300}, false},
		{"count below", Read{Facility: "f", What: Search, Records: []string{"a"}, Count: 0}, false},
	} {
		err := tt.r.Validate()
		if tt.ok != (err == nil) || (err != nil && !errors.Is(err, ErrInvalid)) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	if r := Of("f", Export, "s", many); len(r.Records) != MaxRecords || r.Count != 300 {
		t.Errorf("Of named %d of %d", len(r.Records), r.Count)
	}
}

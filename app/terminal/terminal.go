// Package terminal holds what a facility's terminal decides, apart from
// its screen: which roles identify people and ask a head turn first, what
// a face match, a QR pass or a card means here, what a play park may say
// of the person accepted, and the park's day counts. The screens in
// app/ui only draw these answers and record what they say; everything
// here is plain Go over the folded state, tested natively.
package terminal

import (
	"encoding/json"
	"errors"
	"slices"
	"time"

	"smartpass.city/smartpass/app/face/gallery"
	"smartpass.city/smartpass/app/hlc"
	"smartpass.city/smartpass/app/identify"
	"smartpass.city/smartpass/app/pass"
	"smartpass.city/smartpass/app/playpark"
	"smartpass.city/smartpass/app/scope"
	"smartpass.city/smartpass/app/state"
	"smartpass.city/smartpass/app/template"
	"smartpass.city/smartpass/syncproto"
)

// identifyRoles are the roles whose terminals identify by face.
var identifyRoles = []scope.Role{scope.PlayPark, scope.Reception, scope.Shelter, scope.Shop, scope.Vehicle, scope.Counter}

// turnRoles are the roles whose terminals ask for a head turn before a
// face is matched: all that identify, kept as a list so a facility whose
// terminal is always staffed could drop it. A shop's till asks it too: a
// photo held up to it would spend someone's wallet; so does a vehicle's
// tablet (package risk's transit rule asks the turn), although a driver
// watches the door: the fare is charged to the wallet; so does a
// donation counter's.
var turnRoles = []scope.Role{scope.PlayPark, scope.Reception, scope.Shop, scope.Vehicle, scope.Counter}

// Identifies reports whether a terminal of role identifies people.
func Identifies(role scope.Role) bool { return slices.Contains(identifyRoles, role) }

// AsksTurn reports whether a terminal of role asks a head turn before it
// matches a face (a photo or a phone screen held up is refused).
func AsksTurn(role scope.Role) bool { return slices.Contains(turnRoles, role) }

// IdentifyRole is the role a device must hold to open the identify
// screen, named to staff on a device enrolled otherwise.
const IdentifyRole = scope.PlayPark

// Match turns the match rule's decision into the identification's
// outcome and the resident accepted: a template past its expiry is not
// accepted (the person renews it), two residents too close to tell apart
// are "ambiguous", anything else is "unknown".
func Match(d gallery.Decision, templates map[string]template.Template, now time.Time) (outcome, resident string) {
	switch {
	case d.Accepted && templates[d.ID].Expired(now):
		return identify.Expired, d.ID
	case d.Accepted:
		return identify.Accepted, d.ID
	case d.Reason == "ambiguous":
		return identify.Ambiguous, ""
	}
	return identify.Unknown, ""
}

// Park is what a play park may say of a person it recognised: free entry
// or not and the age band, and the household's children who may enter
// with them. Nothing else reaches the park (template.Profile).
type Park struct {
	Profiled bool // the park holds the person's profile
	Eligible bool
	Band     string
	Children []string // other eligible residents of the household, sorted
	// Declared: the profile's facts are a guardian's word, not proven by
	// the card (template.Profile.Declared): staff check the child.
	Declared bool
}

// AnswerPark judges resident at the park at time now.
func AnswerPark(st *state.State, resident string, now time.Time) Park {
	p, ok := st.Profiles[resident]
	if !ok {
		return Park{}
	}
	a := Park{Profiled: true, Eligible: playpark.Eligible(p, now), Band: p.BandAt(now), Declared: p.Declared}
	if p.Household == "" {
		return a
	}
	for id, other := range st.Profiles {
		if id != resident && other.Household == p.Household && playpark.Eligible(other, now) {
			a.Children = append(a.Children, id)
		}
	}
	slices.Sort(a.Children)
	return a
}

// PassCheck is the judgement of a QR code shown to a terminal: the
// identification to record, and the text key the screen says.
type PassCheck struct {
	identify.Identification
	Key string
}

// CheckPass judges the text of a QR code at facility: a pass signed with
// a key the server published, valid now, not admitted here before, for a
// resident who consented to this facility (their template is in its
// scope). It says why not in words that do not reveal who.
func CheckPass(st *state.State, facility string, role scope.Role, text string, now time.Time) PassCheck {
	c := PassCheck{Identification: identify.Identification{Facility: facility, Method: identify.MethodQR, Outcome: identify.Invalid}, Key: "pass.id.invalid"}
	s, err := pass.Parse(text)
	var ps pass.Pass
	if err == nil {
		ps, err = s.Verify(st.PassKeys, now)
	}
	switch {
	case errors.Is(err, pass.ErrExpired), errors.Is(err, pass.ErrNotYet):
		c.Key = "pass.id.expired"
	case err != nil:
	case st.PassesUsed[ps.ID()]:
		c.Outcome, c.Key = identify.Used, "pass.id.used"
	case !slices.Contains(st.Templates[ps.Resident].Facilities, facility):
		c.Outcome, c.Key = identify.Unknown, "face.id.unknown"
	default:
		c.Outcome, c.Key = identify.Accepted, "face.id.ok."+string(role)
		c.Resident, c.Pass = ps.Resident, ps.ID()
	}
	return c
}

// CardHolder returns the one resident whose profile at facility lists
// the card fp (and who consented to it), or "" for none, and for more
// than one: the server links a card to one resident, so two holders mean
// stale or forged data, and a card that could be either names nobody.
func CardHolder(st *state.State, facility, fp string) string {
	var holders []string
	for id, prof := range st.Profiles {
		if slices.Contains(prof.Cards, fp) && slices.Contains(st.Templates[id].Facilities, facility) {
			holders = append(holders, id)
		}
	}
	if len(holders) != 1 {
		return ""
	}
	return holders[0]
}

// ParkCounts are the day's entries at the park by age band, for its
// report: the eligible residents device admitted on now's day, each
// once, and every child staff admitted by sight in the band they chose.
func ParkCounts(ops []syncproto.Op, device string, profiles map[string]template.Profile, now time.Time) playpark.Counts {
	day := now.Format(time.DateOnly)
	var admitted, bySight []string
	for _, op := range ops {
		if op.Kind != identify.OpIdentified || op.Device != device || hlc.Wall(op.HLC).Format(time.DateOnly) != day {
			continue
		}
		var i identify.Identification
		if json.Unmarshal(op.Body, &i) != nil || i.Outcome != identify.Accepted {
			continue
		}
		switch {
		case i.Method == identify.MethodStaff:
			bySight = append(bySight, i.Band)
		case playpark.Eligible(profiles[i.Resident], now):
			admitted = append(admitted, i.Resident)
		}
	}
	c := playpark.Count(admitted, profiles, now)
	for _, b := range bySight { // nobody to count once: each entry counts
		c[b]++
	}
	return c
}

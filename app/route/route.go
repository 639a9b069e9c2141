// Package route names the PWA's pages. The server registers the same paths
// (it must answer them, and the service worker must cache them for offline
// start) without importing the UI.
package route

// The pages of the PWA.
const (
	Home    = "/"
	Setup   = "/setup"
	Shelter = "/shelter"
	HQ      = "/hq"
	Card    = "/card"
	// FaceRegister is the city desk's face registration.
	FaceRegister = "/face/register"
	// Identify is a terminal's face screen (play park, reception).
	Identify = "/identify"
	// Account is where a resident opens their account with the card.
	Account = "/account"
	// AccountFace is where a resident registers their face, or a family
	// member's (?r=resident id).
	AccountFace = "/account/face"
	// Desk is the city desk's registration of a resident whose card has
	// no signature certificate.
	Desk = "/desk"
	// Queue is a hospital desk's list of the day's receptions.
	Queue = "/queue"
	// Admin is the city staff's admin screen: devices, staff accounts,
	// the audit log (sign-in with a staff account, not a device).
	Admin = "/admin"
	// Vehicle is a bus's or shared taxi's tablet: the identify screen
	// with the driver's trip, stops and fares.
	Vehicle = "/vehicle"
	// Donor is the hometown-tax donor's page: donations, receipts and
	// the one-stop application.
	Donor = "/account/furusato"
	// AccountHospital is the resident's hospital visits: booking for
	// the household, the 問診票, consents and who saw what.
	AccountHospital = "/account/hospital"
	// Reception is a hospital reception tablet's day: the bookings with
	// their 問診票, the bill, and the history a patient consented to.
	Reception = "/reception"
)

// All lists every page, for the server's router and the offline cache.
func All() []string {
	return []string{Home, Setup, Shelter, HQ, Card, FaceRegister, Identify, Account, AccountFace, Desk, Queue, Admin, Vehicle, Donor, AccountHospital, Reception}
}

// ForRole is the page a device of role works on ("" for roles whose
// screens are not built yet).
func ForRole(role string) string {
	switch role {
	case "shelter":
		return Shelter
	case "hq":
		return HQ
	case "registrar":
		return FaceRegister
	case "playpark", "reception":
		return Identify
	case "vehicle":
		return Vehicle
	}
	return ""
}

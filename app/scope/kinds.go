package scope

// The domain packages that declare op kinds (app/opkind), linked here so
// that every program that judges ops (the server, every tablet) knows
// every kind: a kind this build does not link is refused. The house rules
// (houserules.KindsLinked) fail when a package declares kinds and is not
// listed.
import (
	_ "smartpass.city/smartpass/app/access"
	_ "smartpass.city/smartpass/app/appointment"
	_ "smartpass.city/smartpass/app/bill"
	_ "smartpass.city/smartpass/app/emergency"
	_ "smartpass.city/smartpass/app/facility"
	_ "smartpass.city/smartpass/app/furusato"
	_ "smartpass.city/smartpass/app/hospital"
	_ "smartpass.city/smartpass/app/identify"
	_ "smartpass.city/smartpass/app/jpki"
	_ "smartpass.city/smartpass/app/medical"
	_ "smartpass.city/smartpass/app/pass"
	_ "smartpass.city/smartpass/app/shelter"
	_ "smartpass.city/smartpass/app/template"
	_ "smartpass.city/smartpass/app/transit"
	_ "smartpass.city/smartpass/app/wallet"
)

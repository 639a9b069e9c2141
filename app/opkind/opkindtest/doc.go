// Package opkindtest shows that a new op kind touches its own package
// and nothing else: its test declares a kind (a play park's stamp card)
// and pushes it through a real sync hub, over real websockets into a real
// op log, to the devices whose role and facility may see it, refused for
// the others, folded into state and audited as the kind declares. Nothing
// outside this folder names the kind.
package opkindtest

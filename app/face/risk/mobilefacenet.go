package risk

import (
	"smartpass.city/smartpass/app/face/mobilefacenet"
	"smartpass.city/smartpass/app/face/roc"
)

// mobileFaceNet is the basis of the default network, faceplugin-face-
// recognition-js's MobileFaceNet (`make models`, FACE_NET=mobilefacenet):
// the same finder and landmarks, the ArcFace 112 px chip by a
// least-squares similarity on the five points.
var mobileFaceNet = &Basis{
	Net: "mobilefacenet", Model: mobilefacenet.ModelName,
	GenuinePairs: sharedGenuinePairs, ImpostorPairs: sharedImpostorPairs,
	Measured: []Quantile{
		{1e-2, 0.3248},
		{5e-3, 0.3484},
		{2e-3, 0.3754},
		{1e-3, 0.3970},
		{5e-4, 0.4191},
		{2e-4, 0.4364},
		{1e-4, 0.4491},
		{5e-5, 0.4588},
		{sharedFloor, 0.4588},
	},
	Tail:            roc.Tail{Mean: 0.10933, SD: 0.092702, Low: sharedFloor, High: 1e-2, Pairs: sharedImpostorPairs},
	UsableThreshold: 0.6670,
	SamePerson:      0.2334,
}

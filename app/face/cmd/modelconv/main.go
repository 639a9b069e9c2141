// Command modelconv builds the face model file a terminal downloads
// (assets/models/face.spm) from what the package registries provide: the
// dlib ResNet face-recognition weights and the 68-point landmark net of
// the npm package @vladmandic/face-api and the detector cascades of the Go
// module github.com/esimov/pigo. The Makefile runs it after `npm ci`,
// once per network, and copies the one FACE_NET names (MobileFaceNet
// unless told otherwise) to assets/models/face.spm:
//
//	go run ./app/face/cmd/modelconv -net dlib -faceapi DIR -pigo DIR -o bin/models/face-dlib.spm
//
// With -net mobilefacenet -faceplugin DIR the file holds, instead of the
// dlib network, the MobileFaceNet of the npm package
// faceplugin-face-recognition-js (an ONNX graph, read by package onnx): a
// file holds one recognition network, named in its header, so templates
// of the two are never mixed.
//
// Weights published 8-bit (uint8 with a per-tensor scale and minimum, most
// of the network) are stored so, byte for byte; the few published as
// float32 are stored as float16. The terminal dequantises them and folds
// each convolution's affine ("scale") layer into its filters at load, in
// float32: folding here would give each output channel its own scale and
// the filters could no longer stay 8-bit.
package main

import (
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"

	"smartpass.city/smartpass/app/face/embed"
	"smartpass.city/smartpass/app/face/landmark"
	"smartpass.city/smartpass/app/face/mobilefacenet"
	"smartpass.city/smartpass/app/face/model"
	"smartpass.city/smartpass/app/face/tfjs"
)

// Cascades copied from pigo, by the section name the detector reads.
var cascades = map[string]string{
	"pigo/facefinder": "cascade/facefinder",
	"pigo/lp93":       "cascade/lps/lp93",
}

func main() {
	faceapi := flag.String("faceapi", "", "directory of the npm package @vladmandic/face-api")
	pigo := flag.String("pigo", "", "directory of the Go module github.com/esimov/pigo")
	net := flag.String("net", netDlib, "recognition network: "+netDlib+" or "+netMobileFaceNet)
	faceplugin := flag.String("faceplugin", "", "directory of the npm package faceplugin-face-recognition-js (for -net "+netMobileFaceNet+")")
	out := flag.String("o", "assets/models/face.spm", "output file")
	flag.Parse()
	if *faceapi == "" || *pigo == "" {
		log.Fatal("modelconv: -faceapi and -pigo are required")
	}
	if *net == netMobileFaceNet && *faceplugin == "" {
		log.Fatal("modelconv: -net " + netMobileFaceNet + " needs -faceplugin")
	}
	data, err := convert(*net, *faceapi, *faceplugin, *pigo)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		log.Fatal(err)
	}
	// Write then rename, so a build cut short never leaves a half file
	// that a later `make` would take as done.
	tmp := *out + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.Rename(tmp, *out); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("modelconv: wrote %s (%d bytes)\n", *out, len(data))
}

// The networks -net chooses.
const (
	netDlib          = "dlib"
	netMobileFaceNet = "mobilefacenet"
)

func convert(net, faceapiDir, faceplugin, pigoDir string) ([]byte, error) {
	pkg, err := readPackageVersion(filepath.Join(faceapiDir, "package.json"))
	if err != nil {
		return nil, err
	}
	if pkg != embed.SourceVersion {
		return nil, fmt.Errorf("modelconv: face-api %s found, %s expected (the model name would lie)", pkg, embed.SourceVersion)
	}
	var b *model.Builder
	switch net {
	case netDlib:
		if b, err = dlibNet(faceapiDir, pkg); err != nil {
			return nil, err
		}
	case netMobileFaceNet:
		if b, err = mobileFaceNet(faceplugin, pkg); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("modelconv: network %q unknown (%s or %s)", net, netDlib, netMobileFaceNet)
	}
	return addLandmarksAndCascades(b, faceapiDir, pigoDir)
}

// dlibNet starts a file with face-api's dlib ResNet.
func dlibNet(faceapiDir, pkg string) (*model.Builder, error) {
	weights, err := readWeights(filepath.Join(faceapiDir, "model"), "face_recognition_model")
	if err != nil {
		return nil, err
	}
	b := model.NewBuilder(model.Header{
		Name:   embed.ModelName,
		Source: "npm @vladmandic/face-api@" + pkg + " model/face_recognition_model (dlib ResNet-29, Davis King, public domain) and model/face_landmark_68_model (face-api's FaceLandmark68Net, MIT); cascades from Go module github.com/esimov/pigo (MIT)",
		Input:  embed.InputSize,
		// face-api's FaceRecognitionNet: subtract the mean RGB, divide
		// by 255.
		Mean:  [3]float32{122.782, 117.001, 104.298},
		Scale: 255,
	})
	var names []string
	for _, layer := range embed.ConvLayers() {
		for _, w := range embed.LayerWeights {
			names = append(names, layer+"/"+w)
		}
	}
	if err := addWeights(b, weights, append(names, "fc")); err != nil {
		return nil, err
	}
	return b, nil
}

// mobileFaceNet starts a file with faceplugin-face-recognition-js's
// network; faceapi is face-api's version, for the landmark net's source.
func mobileFaceNet(dir, faceapi string) (*model.Builder, error) {
	pkg, err := readPackageVersion(filepath.Join(dir, "package.json"))
	if err != nil {
		return nil, err
	}
	if pkg != mobilefacenet.SourceVersion {
		return nil, fmt.Errorf("modelconv: faceplugin-face-recognition-js %s found, %s expected (the model name would lie)", pkg, mobilefacenet.SourceVersion)
	}
	b := model.NewBuilder(model.Header{
		Name:   mobilefacenet.ModelName,
		Source: "npm faceplugin-face-recognition-js@" + pkg + " " + FeatureModel + " (MobileFaceNet-style; package.json says MIT, its LICENSE is MIT text naming another person, no separate terms for the weights: see README) and npm @vladmandic/face-api@" + faceapi + " model/face_landmark_68_model (MIT); cascades from Go module github.com/esimov/pigo (MIT)",
		Input:  mobilefacenet.InputSize,
		Mean:   [3]float32{mobilefacenet.Mean, mobilefacenet.Mean, mobilefacenet.Mean},
		Scale:  mobilefacenet.Scale,
	})
	if err := addMobileFaceNet(b, dir); err != nil {
		return nil, err
	}
	return b, nil
}

// addLandmarksAndCascades completes a file with what every network's
// pipeline needs: face-api's 68-point landmark net and pigo's cascades.
func addLandmarksAndCascades(b *model.Builder, faceapiDir, pigoDir string) ([]byte, error) {
	lm, err := readWeights(filepath.Join(faceapiDir, "model"), "face_landmark_68_model")
	if err != nil {
		return nil, err
	}
	for _, name := range landmark.Weights() {
		if t, ok := lm[name]; ok {
			lm[landmark.Prefix+name] = t
		}
	}
	if err := addWeights(b, lm, prefixed(landmark.Prefix, landmark.Weights())); err != nil {
		return nil, err
	}
	for _, name := range []string{"pigo/facefinder", "pigo/lp93"} {
		raw, err := os.ReadFile(filepath.Join(pigoDir, cascades[name]))
		if err != nil {
			return nil, fmt.Errorf("modelconv: cascade: %w", err)
		}
		b.AddRaw(name, raw)
	}
	return b.Bytes()
}

func prefixed(p string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = p + n
	}
	return out
}

// quantizeAbove is the size from which a weight published as float32 is
// quantised to 8 bits here, as the publisher quantised the rest: the
// recognition network's eight 64-channel convolutions (276,480 values)
// are the only ones, and 8 bits keep the file under 7 MB. Small tensors
// (biases, scales) stay float16.
const quantizeAbove = 4096

// addWeights stores the named weights 8-bit: as published where they
// were, quantised here (quantize) where they are large, float16 where
// they are small.
func addWeights(b *model.Builder, w map[string]tfjs.Tensor, names []string) error {
	for _, name := range names {
		t, ok := w[name]
		if !ok {
			return fmt.Errorf("modelconv: weight %s missing", name)
		}
		if t.Quantized == nil && len(t.Values) >= quantizeAbove {
			t.Quantized = quantize(t.Values)
		}
		var err error
		if q := t.Quantized; q != nil {
			err = b.AddU8(name, t.Shape, q.Q, q.Scale, q.Min)
		} else {
			err = b.AddF16(name, t.Shape, t.Values)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// quantize is TensorFlow.js's affine uint8 quantisation, the publisher's
// own: the range [min, max] in 255 steps, each value rounded to the
// nearest.
func quantize(v []float32) *tfjs.Quantized {
	lo, hi := v[0], v[0]
	for _, x := range v {
		lo, hi = min(lo, x), max(hi, x)
	}
	scale := (hi - lo) / 255
	q := &tfjs.Quantized{Q: make([]byte, len(v)), Scale: scale, Min: lo}
	if scale == 0 {
		q.Scale = 1
		return q
	}
	for i, x := range v {
		q.Q[i] = byte(math.Round(float64((x - lo) / scale)))
	}
	return q
}

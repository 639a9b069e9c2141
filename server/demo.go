package main

import (
	"context"
	"encoding/json"
	"fmt"

	"smartpass.city/smartpass/app/facility"
	"smartpass.city/smartpass/app/hlc"
	"smartpass.city/smartpass/server/oplog"
	"smartpass.city/smartpass/syncproto"
)

// serverDevice is the device id under which the server writes its own ops
// (facilities, for now) into the log, so they sync like any other op.
const serverDevice = "server"

// seedDemo writes the demo facilities into an empty log. A log that already
// holds anything is left alone, so restarting with -demo never duplicates.
func seedDemo(ctx context.Context, log *oplog.Log) error {
	if log.Head() != 0 {
		return nil
	}
	clock := hlc.New(nil, 0)
	var ops []syncproto.Op
	for i, f := range facility.Demo() {
		b, err := json.Marshal(f)
		if err != nil {
			return fmt.Errorf("seed demo: %w", err)
		}
		ops = append(ops, syncproto.Op{Seq: uint64(i + 1), HLC: clock.Now(), Kind: facility.OpUpsert, Body: b})
	}
	if _, err := log.Append(ctx, serverDevice, ops); err != nil {
		return fmt.Errorf("seed demo: %w", err)
	}
	return nil
}

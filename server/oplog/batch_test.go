package oplog

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"testing"
	"time"

	"smartpass.city/smartpass/server/store"
	"smartpass.city/smartpass/syncproto"
)

// crashBatch is how many ops each batch of the crash test holds.
const crashBatch = 40

// TestAppendBatchAllOrNothingAcrossCrash: a child process appends
// batches, each of crashBatch ops and one private record, until it is
// SIGKILLed at a random moment, three times over on one store; reopened,
// the store holds whole batches only, each with its record.
func TestAppendBatchAllOrNothingAcrossCrash(t *testing.T) {
	if dir := os.Getenv("OPLOG_CRASH_DIR"); dir != "" {
		crashWriter(t, dir)
		return
	}
	dir := t.TempDir()
	for round := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestAppendBatchAllOrNothingAcrossCrash$", "-test.count=1")
		cmd.Env = append(os.Environ(), "OPLOG_CRASH_DIR="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Killed once it has committed a batch, somewhere in the next ones.
		sc := bufio.NewScanner(out)
		for sc.Scan() && sc.Text() != "committing" {
		}
		time.Sleep(time.Duration(20+rand.IntN(150)) * time.Millisecond)
		cmd.Process.Kill()
		cmd.Wait()
		t.Logf("round %d: killed", round)
	}
	l := open(t, dir)
	defer l.Close()
	var n uint64
	for after := uint64(0); ; {
		got, err := l.Since(FeedAll, after, 1000, 8<<20)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			break
		}
		for _, op := range got {
			n++
			if op.Seq != n {
				t.Fatalf("op %d has seq %d: a gap", n, op.Seq)
			}
		}
		after = got[len(got)-1].Global
	}
	records := 0
	l.View(func(tx store.Tx) error {
		return tx.Each("crash.batch", func(string, []byte) error { records++; return nil })
	})
	if n == 0 || n%crashBatch != 0 || uint64(records) != n/crashBatch {
		t.Fatalf("%d ops and %d records: want whole batches of %d ops, each with its record", n, records, crashBatch)
	}
	t.Logf("%d whole batches survived three crashes", records)
}

// crashWriter appends batches to the store in dir until killed.
func crashWriter(t *testing.T, dir string) {
	l, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for {
		mark, err := l.Mark("crash")
		if err != nil {
			t.Fatal(err)
		}
		batch := make([]syncproto.Op, crashBatch)
		for i := range batch {
			seq := mark + uint64(i) + 1
			batch[i] = syncproto.Op{Seq: seq, HLC: seq, Kind: "test.op", Body: []byte(`{"n":1}`)}
		}
		id := fmt.Sprintf("%016d", mark/crashBatch)
		if _, _, err := l.AppendBatch(ctx, "crash", batch, func(tx store.Tx) error {
			return tx.Put("crash.batch", id, []byte("whole"))
		}); err != nil {
			t.Fatal(err)
		}
		fmt.Println("committing")
	}
}

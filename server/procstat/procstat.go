// Package procstat reads what Linux's /proc says about a process: its CPU
// time and peak memory, so a benchmark can charge the server process (or
// the database's) for the work it did, apart from the benchmark's own
// clients on the same cores.
package procstat

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// userHZ is the unit of the CPU times in /proc/PID/stat (USER_HZ, 100 on
// every Linux architecture Go supports).
const userHZ = 100

// Fields returns the fields of a /proc/PID/stat file, the command name
// (which may hold spaces and parentheses) counted as one. Field i is the
// stat(5) field i+1: [0] the pid, [3] the parent, [13] utime, [14] stime,
// [15] cutime, [16] cstime.
func Fields(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("procstat: %w", err)
	}
	s := string(b)
	i := strings.IndexByte(s, ' ')
	j := strings.LastIndexByte(s, ')')
	if i < 0 || j < i {
		return nil, fmt.Errorf("procstat: %s: %w", path, ErrFormat)
	}
	f := append([]string{s[:i], s[i+1 : j+1]}, strings.Fields(s[j+1:])...)
	if len(f) < 17 {
		return nil, fmt.Errorf("procstat: %s: %w", path, ErrFormat)
	}
	return f, nil
}

// ErrFormat means a /proc file did not read as stat(5) or status(5) say.
var ErrFormat = fmt.Errorf("unexpected /proc format")

// CPUSeconds returns the user and system CPU time of the stat fields f;
// with reaped set, also that of its children it has waited for.
func CPUSeconds(f []string, reaped bool) float64 {
	last := 15
	if reaped {
		last = 17
	}
	ticks := 0.0
	for _, v := range f[13:last] {
		n, _ := strconv.ParseFloat(v, 64)
		ticks += n
	}
	return ticks / userHZ
}

// CPU returns the CPU seconds process pid has used so far (user and
// system, its own threads only).
func CPU(pid int) (float64, error) {
	f, err := Fields(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return CPUSeconds(f, false), nil
}

// PeakRSS returns the peak resident memory of process pid in bytes
// (VmHWM of /proc/PID/status).
func PeakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("procstat: read memory: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			if _, err := fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), &kb); err != nil {
				return 0, fmt.Errorf("procstat: parse %q: %w", line, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("procstat: no VmHWM in /proc/%d/status: %w", pid, ErrFormat)
}

// Load1 returns the one-minute load average (/proc/loadavg), which a
// benchmark reports beside its figures: on a shared machine they mean
// little without it.
func Load1() (float64, error) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, fmt.Errorf("procstat: %w", err)
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, fmt.Errorf("procstat: /proc/loadavg: %w", ErrFormat)
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return 0, fmt.Errorf("procstat: /proc/loadavg: %w", err)
	}
	return v, nil
}

package account_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"smartpass.city/smartpass/app/account"
)

func TestAge(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		birth string
		want  int
	}{
		{"20101130", 16}, {"20101201", 15}, {"20100101", 16}, {"19500101", 76},
	} {
		if got, err := account.Age(tc.birth, now); err != nil || got != tc.want {
			t.Errorf("Age(%s) = %d, %v; want %d", tc.birth, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "2010113", "20101330", "abcdefgh"} {
		if _, err := account.Age(bad, now); !errors.Is(err, account.ErrBirthDate) {
			t.Errorf("Age(%q) = %v", bad, err)
		}
	}
}

// The challenge binds the nonce to the key: neither can be swapped.
func TestChallenge(t *testing.T) {
	a := account.Challenge([]byte("nonce-1"), []byte("key-1"))
	for _, b := range [][]byte{
		account.Challenge([]byte("nonce-2"), []byte("key-1")),
		account.Challenge([]byte("nonce-1"), []byte("key-2")),
	} {
		if bytes.Equal(a, b) {
			t.Fatal("two different nonce and key pairs give the same challenge")
		}
	}
}

func TestFaceExpiry(t *testing.T) {
	at := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		birth string
		years int
	}{
		{"20180505", 1}, // 8
		{"20131201", 1}, // 12, 13 tomorrow
		{"20131130", 2}, // 13 today
		{"20101201", 2}, // 15
		{"20101130", 5}, // 16 today
		{"19500101", 5},
	} {
		got, err := account.FaceExpiry(tc.birth, at)
		if err != nil || !got.Equal(at.AddDate(tc.years, 0, 0)) {
			t.Errorf("FaceExpiry(%s) = %s, %v; want %d years", tc.birth, got, err, tc.years)
		}
	}
	if _, err := account.FaceExpiry("2010", at); !errors.Is(err, account.ErrBirthDate) {
		t.Errorf("a bad birth date: %v", err)
	}
}

package account_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"smartpass.city/smartpass/app/account"
	"smartpass.city/smartpass/app/identify"
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

// TestLinkChallenge: what a card signs to be linked differs from what it
// signs for a card check (the bare nonce) and for an account, and binds
// the nonce and the account's key.
func TestLinkChallenge(t *testing.T) {
	nonce, key := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	link := account.LinkChallenge(nonce, key)
	for name, other := range map[string][]byte{
		"a card check":      nonce,
		"an account":        account.Challenge(nonce, key),
		"another nonce":     account.LinkChallenge(bytes.Repeat([]byte{3}, 32), key),
		"another account":   account.LinkChallenge(nonce, bytes.Repeat([]byte{3}, 32)),
		"a request message": account.Message("/accounts/members", nonce, key),
	} {
		if bytes.Equal(link, other) {
			t.Errorf("the link challenge equals %s's", name)
		}
	}
}

// TestDeclared: only the proven sources are not the guardian's word;
// records from before sources were proven ("card-info") and unknown
// ones are.
func TestDeclared(t *testing.T) {
	for _, tc := range []struct {
		source string
		want   bool
	}{
		{account.SourceCertificate, false}, {account.SourceCardRead, false}, {account.SourceDesk, false},
		{account.SourceDeclared, true}, {"card-info", true}, {"", true}, {"anything", true},
	} {
		if got := account.Declared(tc.source); got != tc.want {
			t.Errorf("Declared(%q) = %t, want %t", tc.source, got, tc.want)
		}
	}
}

// TestDeskCheck: a desk records the card-face check only when it
// accepted; by sight after any outcome or none; a request of an older
// desk, with no check, still reads (by sight, as then).
func TestDeskCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    account.DeskCheck
		ok   bool
	}{
		{"card-face accepted", account.DeskCheck{By: account.ByCardFace, Outcome: identify.Accepted, Score: 0.71}, true},
		{"sight after a refusal", account.DeskCheck{By: account.ByStaff, Outcome: identify.Unknown, Score: 0.12}, true},
		{"sight after a picture", account.DeskCheck{By: account.ByStaff, Outcome: identify.Flat}, true},
		{"sight, no check", account.DeskCheck{By: account.ByStaff}, true},
		{"card-face refused", account.DeskCheck{By: account.ByCardFace, Outcome: identify.Unknown, Score: 0.12}, false},
		{"card-face, no outcome", account.DeskCheck{By: account.ByCardFace}, false},
		{"by nobody", account.DeskCheck{Outcome: identify.Accepted}, false},
		{"an outcome of another method", account.DeskCheck{By: account.ByStaff, Outcome: identify.Expired}, false},
		{"a score out of range", account.DeskCheck{By: account.ByCardFace, Outcome: identify.Accepted, Score: 1.5}, false},
	} {
		if err := tc.d.Validate(); (err == nil) != tc.ok || (err != nil && !errors.Is(err, account.ErrDeskCheck)) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	var old account.Supervised
	if err := json.Unmarshal([]byte(`{"facts":{"name":"加賀　太郎"},"staff":"山田"}`), &old); err != nil || old.Check != nil {
		t.Fatalf("an older desk's request: %+v, %v", old, err)
	}
}

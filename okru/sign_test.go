package okru

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// vectorCase gives the parameters and secret behind one row of
// data/signature-vectors.tsv; the row itself supplies the expected hashed
// string and signature, so the table cannot drift from the data file.
type vectorCase struct {
	params map[string]string
	secret func() string
}

var vectorCases = map[string]vectorCase{
	"V1": {
		params: map[string]string{"application_key": "ABCDEFGHIGKLMNOPK", "format": "json", "method": "events.get"},
		secret: func() string { return "ae5362b5b588cc7294c2414d71b74d5d" },
	},
	"V2": {
		params: map[string]string{"application_key": "ABCDEFGHIGKLMNOPK", "format": "json", "method": "events.get",
			"access_token": "-s-84W-s3egarWUsbkq-IWTucuedzTKT8VUXIA.s4Xx8IW7"},
		secret: func() string {
			return ServerSecret("-s-84W-s3egarWUsbkq-IWTucuedzTKT8VUXIA.s4Xx8IW7", "ABC123DEF456GHI789JKL123")
		},
	},
	"V3": {
		params: map[string]string{"application_key": "app key", "method": "users.getCurrentUser"},
		secret: func() string { return "app secret key" },
	},
	"V5": {
		params: map[string]string{"application_key": "app key", "method": "users.getCurrentUser", "access_token": "access token"},
		secret: func() string { return ServerSecret("access token", "app secret key") },
	},
	"V6": {
		params: map[string]string{"application_key": "1", "format": "json", "method": "friends.get", "access_token": "3"},
		secret: func() string { return ServerSecret("3", "2") },
	},
	"V7": {
		params: map[string]string{"application_key": "application_key", "access_token": "token"},
		secret: func() string { return ServerSecret("token", "client_secret") },
	},
	"V9": {
		params: map[string]string{
			"application_key": "CBAFJIICABABABABA",
			"attachment":      `{"media":[{"type":"text","text":"Привет, мир!"}]}`,
			"format":          "json",
			"gid":             "53038939046008",
			"method":          "mediatopic.post",
			"type":            "GROUP_THEME",
			"access_token":    "-s-TESTTOKEN.123",
		},
		secret: func() string { return ServerSecret("-s-TESTTOKEN.123", "0123456789ABCDEF01234567") },
	},
	"V10": {
		params: map[string]string{"application_key": "CBAFJIICABABABABA", "fields": "first_name,last_name",
			"format": "json", "method": "users.getInfo", "uids": "1,2,3"},
		secret: func() string { return "sessionsecret" },
	},
	"V11": {
		params: map[string]string{"application_key": "CBAFJIICABABABABA", "method": "notifications.sendSimple",
			"text": "hi", "uid": "123"},
		secret: func() string { return "APPSECRET" },
	},
}

func TestSignVectors(t *testing.T) {
	f, err := os.Open("data/signature-vectors.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 5 {
			t.Fatalf("malformed vector row %q", line)
		}
		id, hashed, want := cols[0], cols[3], cols[4]
		seen++
		t.Run(id, func(t *testing.T) {
			c, ok := vectorCases[id]
			if !ok {
				t.Fatalf("vector %s has no case in vectorCases: add its parameters", id)
			}
			secret := c.secret()
			hashed = strings.ReplaceAll(hashed, "<md5 as derived>", secret)
			if got := signingString(c.params, secret); got != hashed {
				t.Errorf("signing string\n got %q\nwant %q", got, hashed)
			}
			if got := Sign(c.params, secret); got != want {
				t.Errorf("Sign = %s, want %s", got, want)
			}
		})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if seen != len(vectorCases) {
		t.Errorf("data file has %d vectors, table has %d", seen, len(vectorCases))
	}
}

func TestSignKeepsEmptyAndZeroValues(t *testing.T) {
	base := map[string]string{"application_key": "k", "method": "m"}
	for _, v := range []string{"", "0", "false"} {
		with := map[string]string{"application_key": "k", "method": "m", "x": v}
		if Sign(with, "s") == Sign(base, "s") {
			t.Errorf("value %q did not change the signature: it was dropped", v)
		}
	}
}

func TestSignIgnoresSigAccessTokenResig(t *testing.T) {
	base := map[string]string{"application_key": "k", "method": "m"}
	with := map[string]string{"application_key": "k", "method": "m", "sig": "x", "access_token": "t", "resig": "r"}
	if Sign(with, "s") != Sign(base, "s") {
		t.Error("sig, access_token or resig took part in the signature")
	}
}

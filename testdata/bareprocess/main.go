// Command bareprocess is the floor that BenchmarkRunProcess sets beside a
// whole `okru-run run` process: the least a separate Go process does to
// make the same calls. It reads the keys file, signs one users.getInfo per
// key (server-server circuit), posts them from -parallelism goroutines
// with net/http and checks each answer is JSON without an error; nothing
// else (no plan, no journal, no output).
//
// It takes the session from the variables a sandbox run takes
// (OKRU_APP_KEY, OKRU_APP_SECRET_KEY, OKRU_ACCESS_TOKEN, OKRU_API_URL).
package main

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

func main() {
	parallelism := flag.Int("parallelism", 8, "calls at once")
	flag.Parse()
	keys, err := os.ReadFile(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	uids := strings.Split(strings.TrimSpace(string(keys)), "\n")
	appKey, token, api := os.Getenv("OKRU_APP_KEY"), os.Getenv("OKRU_ACCESS_TOKEN"), os.Getenv("OKRU_API_URL")
	secret := md5hex(token + os.Getenv("OKRU_APP_SECRET_KEY"))
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = *parallelism
	client := &http.Client{Transport: tr}
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	for range *parallelism {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(uids) {
					return
				}
				if err := call(client, api+"fb.do", appKey, token, secret, uids[i]); err != nil {
					fmt.Fprintln(os.Stderr, err)
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if failed.Load() > 0 {
		os.Exit(1)
	}
}

func call(client *http.Client, endpoint, appKey, token, secret, uid string) error {
	p := map[string]string{"application_key": appKey, "format": "json", "method": "users.getInfo",
		"uids": uid, "fields": "first_name,last_name"}
	p["sig"] = sign(p, secret)
	p["access_token"] = token
	form := url.Values{}
	for k, v := range p {
		form.Set(k, v)
	}
	resp, err := client.Post(endpoint, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if !json.Valid(body) || resp.Header.Get("Invocation-Error") != "" {
		return fmt.Errorf("users.getInfo %s: answer %d: %.200s", uid, resp.StatusCode, body)
	}
	return nil
}

// sign is ok.ru's signature: md5 of the sorted key=value pairs and the
// secret.
func sign(p map[string]string, secret string) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + p[k])
	}
	return md5hex(b.String() + secret)
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

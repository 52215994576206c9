package piicrypto

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

// The data key's bytes are only reachable from inside the package: check here that no
// formatting shows them, and that Destroy zeroes them.
func TestDataKeyBytesStayPrivate(t *testing.T) {
	mk, err := ParseMasterKeys("k1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, KeySize)))
	if err != nil {
		t.Fatal(err)
	}
	dk, _, err := NewDataKey(mk, "case-1")
	if err != nil {
		t.Fatal(err)
	}
	key := dk.s.key
	if key == ([KeySize]byte{}) {
		t.Fatal("the data key is zero")
	}
	got := fmt.Sprintf("%v %+v %#v %s %x %d %p", dk, dk, dk, dk, dk, dk, dk)
	got += fmt.Sprintf("%v %+v %#v %p", struct{ K DataKey }{dk}, struct{ K DataKey }{dk}, struct{ K DataKey }{dk}, struct{ K DataKey }{dk})
	for _, form := range []string{hex.EncodeToString(key[:8]), base64.StdEncoding.EncodeToString(key[:6]), fmt.Sprint(key[:4])[1:10]} {
		if strings.Contains(got, form) {
			t.Fatalf("formatting shows the data key (%s): %s", form, got)
		}
	}
	dk.Destroy()
	if dk.s.key != ([KeySize]byte{}) {
		t.Error("Destroy left the key in memory")
	}
}

// The master keys' own copies are not reachable by formatting either, even through the bad
// verb path that bypasses Format.
func TestMasterKeyBytesStayPrivate(t *testing.T) {
	raw := bytes.Repeat([]byte{0xab}, KeySize)
	mk, err := ParseMasterKeys("k1:" + base64.StdEncoding.EncodeToString(raw))
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%p %p %p", *mk, struct{ M MasterKeys }{*mk}, struct{ K *MasterKeys }{mk})
	if strings.Contains(got, "171 171 171") || strings.Contains(strings.ToLower(got), "abababab") {
		t.Fatalf("formatting shows a master key: %s", got)
	}
}

package piicrypto_test

import (
	"fmt"

	"github.com/nrm-albania/nrm/services/platform/piicrypto"
)

// The life of a case's identity: registered, read, its master key rotated, erased.
func Example() {
	// At start, from NRM_PII_MASTER_KEYS (see Config); k1 is primary.
	mk, err := piicrypto.ParseMasterKeys(keySpec("k1"))
	if err != nil {
		panic(err)
	}

	// Registering case-1: a data key of its own, the identity sealed field by field. The store
	// keeps wrapped and the sealed fields; the data key is forgotten.
	dk, wrapped, err := piicrypto.NewDataKey(mk, "case-1")
	if err != nil {
		panic(err)
	}
	given, _ := dk.Seal("identity.given_name", []byte("Ëndrit"))
	dk.Destroy()

	// Reading it back, by someone allowed to.
	dk, err = piicrypto.Unwrap(mk, wrapped, "case-1")
	if err != nil {
		panic(err)
	}
	name, _ := dk.Open("identity.given_name", given)
	dk.Destroy()
	fmt.Println(string(name))

	// A sealed field does not open as another field, nor a wrapped key for another case.
	_, err = piicrypto.Unwrap(mk, wrapped, "case-2")
	fmt.Println(err)

	// Rotation: k2 becomes primary, k1 stays readable; the rewrap job moves case-1 to k2.
	mk, _ = piicrypto.ParseMasterKeys(keySpec("k2", "k1"))
	wrapped, moved, _ := piicrypto.Rewrap(mk, wrapped, "case-1")
	fmt.Println(wrapped.KeyID, moved)

	// Erasure: the store deletes the wrapped key. Nothing can open the sealed fields any more,
	// in the database or in any backup of it.
	wrapped = piicrypto.WrappedKey{}
	_, err = piicrypto.Unwrap(mk, wrapped, "case-1")
	fmt.Println(err)

	// Output:
	// Ëndrit
	// piicrypto: decryption failed: wrong key, record or field, or altered data
	// k2 true
	// piicrypto: no data key: the identity was erased
}

// Duplicate search without decrypting: store NameDOBIndex with each case, and look up a new
// person by any of NameDOBIndexes.
func ExampleNameDOBIndexes() {
	k, _ := piicrypto.ParseIndexKey(b64(testKey("index")))
	stored := piicrypto.NameDOBIndex(k, "Çela", "Ëndrit", "2004-02-29") // names recorded swapped
	for _, ix := range piicrypto.NameDOBIndexes(k, "ENDRIT", "cela", "2004-02-29") {
		if ix == stored {
			fmt.Println("possible duplicate")
		}
	}
	fmt.Println(piicrypto.NameDOBIndex(k, "", "Çela", "2004-02-29") == "")
	// Output:
	// possible duplicate
	// true
}

func ExampleNormaliseName() {
	fmt.Println(piicrypto.NormaliseName("Ëndrit  Çela"))
	fmt.Println(piicrypto.NormaliseName("O'Brien"), piicrypto.NormaliseName("Anna-Maria"))
	// Output:
	// endrit cela
	// obrien annamaria
}

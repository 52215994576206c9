package piicrypto

import (
	"strings"
	"sync"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// nameChains holds the Unicode part of name normalisation. A chain keeps buffers and the case
// folder keeps state, so neither may be shared between goroutines; the pool saves building one
// per call.
var nameChains = sync.Pool{New: func() any {
	return transform.Chain(
		// Spacing accents first (´ ` ¨ ^ ˘ …, category Sk): NFKD would turn "´" into a space
		// and a combining accent, splitting "O´Brien" into two words.
		runes.Remove(runes.In(unicode.Sk)),
		// Compatibility decomposition: full-width letters, ligatures, superscripts and the
		// no-break spaces become their plain forms, accented letters a base letter and marks.
		norm.NFKD,
		// Full case folding (ß → ss, ﬀ → ff), which is meant for caseless matching, unlike
		// lowercasing.
		cases.Fold(),
		// Folding can produce composed characters again (İ folds to i and a dot above).
		norm.NFKD,
	)
}}

// strokes spells letters that NFKD leaves whole, because their stroke or ligature is part of
// the letter rather than a combining mark, the way they are commonly written without it (in
// names from the region: Serbian and Croatian đ, Polish ł, Turkish ı, Nordic ø and æ).
// Keys are lower case: the table applies after case folding.
var strokes = map[rune]string{
	'đ': "d", 'ð': "d", 'ł': "l", 'ø': "o", 'ı': "i", 'ħ': "h", 'ŧ': "t", 'ƀ': "b", 'ƶ': "z",
	'ɨ': "i", 'æ': "ae", 'œ': "oe", 'þ': "th",
}

// NormaliseName returns the form of a name that blind indexes compare: Unicode compatibility
// decomposition (NFKD) with the accents and other combining marks removed (ë → e, ç → c),
// case-folded, letters with a stroke spelled without it (đ → d), punctuation, symbols,
// apostrophes, hyphens, modifier letters (ʼ ʻ) and invisible characters dropped ("O'Brien" →
// "obrien", "Anna-Maria" → "annamaria"), and any run of white space, no-break spaces included,
// made one space, none at either end ("Ëndrit  Çela" → "endrit cela"). Letters and digits of
// every script are kept; names in different scripts are not transliterated, so they do not match.
// Invalid UTF-8 is dropped.
//
// Stripping marks throws away some information (in scripts whose vowel signs are marks, such as
// Devanagari, two names can become one): a blind index may therefore match two different
// people, which a person then resolves, but it does not miss the same person written with or
// without accents, which is the commoner case in the registry's data.
//
// NormaliseName is idempotent: NormaliseName(NormaliseName(s)) == NormaliseName(s).
func NormaliseName(s string) string {
	t := nameChains.Get().(transform.Transformer)
	folded, _, err := transform.String(t, validUTF8(s))
	nameChains.Put(t)
	if err != nil {
		// The chain's stages do not fail on valid UTF-8, which validUTF8 ensures; should one ever
		// fail, give no index rather than one of a half-transformed string.
		return ""
	}
	var b strings.Builder
	b.Grow(len(folded))
	space := false
	for _, r := range folded {
		switch {
		case unicode.IsSpace(r):
			space = b.Len() > 0
		case isNameRune(r):
			if space {
				b.WriteByte(' ')
				space = false
			}
			if unicode.Is(unicode.Cherokee, r) {
				// Unicode folds Cherokee to upper case (its lower case came later, and folding
				// must stay stable), but cases.Fold swaps the two cases, so that folding twice
				// undoes it. Finish the fold here.
				r = unicode.ToUpper(r)
			}
			if spelled, ok := strokes[r]; ok {
				b.WriteString(spelled)
			} else {
				b.WriteRune(r)
			}
		}
		// Everything else is dropped: marks (M), punctuation (P, hyphens and apostrophes
		// included), symbols (S), controls and format characters (C: soft hyphens, zero-width
		// joiners, direction marks, U+FFFD from invalid UTF-8), modifier letters (Lm: ʼ, ʻ,
		// the Arabic tatweel).
	}
	return b.String()
}

func isNameRune(r rune) bool {
	if r < 0x80 {
		return 'a' <= r && r <= 'z' || '0' <= r && r <= '9' // folded: no upper case left
	}
	return unicode.IsLetter(r) && !unicode.Is(unicode.Lm, r) || unicode.IsNumber(r)
}

// NormaliseDocument returns the form of a document type or number that DocumentIndex compares:
// NFKD (full-width characters become ASCII), letters and digits only (spaces, hyphens, slashes
// and dots are formatting, not part of the number), upper case. "ab 123-456" → "AB123456".
//
// NormaliseDocument is idempotent.
func NormaliseDocument(s string) string {
	s = norm.NFKD.String(validUTF8(s))
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if unicode.IsLetter(r) && !unicode.Is(unicode.Lm, r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	return b.String()
}

// validUTF8 drops invalid bytes before normalisation. Left in, they hide the character after
// them from NFKD ("\xf1ǰ" would keep its ǰ whole), and the result would normalise differently
// a second time.
func validUTF8(s string) string { return strings.ToValidUTF8(s, "") }

package card

import (
	"fmt"

	"github.com/mynahil/mynahil/simcard/timing"
)

// Limits of a stored card state. A real chip holds a few tens of kilobytes;
// these are generous bounds that a damaged or hostile file cannot exceed.
const (
	maxDFs         = 16
	maxFilesPerDF  = 64
	maxEFBytes     = 65535 // the largest READ BINARY offset + Le (docs/card.md §3)
	maxRecords     = 254   // READ RECORD numbers 01–FE
	maxPINTries    = 15    // 63Cx carries at most 15
	maxPINLength   = 255
	maxDataObjects = 64
	maxObjectBytes = 65535 // the largest extended Le
	keyBits        = 2048
)

// Validate checks a loaded state against what the card can hold: counters
// within their maximum, formats, sizes and references. The error names the
// field ("dfs[0] (JPKI) file 0018: pin.left 15 above pin.max 3") and never
// quotes a PIN or key.
func (st *State) Validate() error {
	if st.Version != StateVersion {
		return fmt.Errorf("version %d, want %d", st.Version, StateVersion)
	}
	if err := CheckATR(st.ATR); err != nil {
		return fmt.Errorf("atr: %w", err)
	}
	if _, err := timing.Lookup(st.Timing); err != nil {
		return fmt.Errorf("timing: %w", err)
	}
	if len(st.DFs) > maxDFs {
		return fmt.Errorf("dfs: %d application DFs, at most %d", len(st.DFs), maxDFs)
	}
	for i, d := range st.DFs {
		if d == nil {
			return fmt.Errorf("dfs[%d]: null", i)
		}
		if err := d.validate(); err != nil {
			return fmt.Errorf("dfs[%d] (%s): %w", i, d.Name, err)
		}
	}
	if err := validateFiles(st.MFFiles, nil); err != nil {
		return fmt.Errorf("mf_files: %w", err)
	}
	if len(st.DataObjects) > maxDataObjects {
		return fmt.Errorf("data_objects: %d objects, at most %d", len(st.DataObjects), maxDataObjects)
	}
	for tag, v := range st.DataObjects {
		if len(v) > maxObjectBytes {
			return fmt.Errorf("data_objects[%04X]: %d bytes, at most %d", tag, len(v), maxObjectBytes)
		}
	}
	return nil
}

func (d *DF) validate() error {
	if len(d.AID) < 1 || len(d.AID) > 16 {
		return fmt.Errorf("aid: %d bytes, want 1–16", len(d.AID))
	}
	if err := validateFiles(d.Files, d); err != nil {
		return err
	}
	if d.DefaultKey != 0 {
		if f := d.File(d.DefaultKey); f == nil || f.Kind != KeyFile {
			return fmt.Errorf("default_key: %04X is not a key file of the DF", d.DefaultKey)
		}
	}
	return nil
}

func validateFiles(files []*File, d *DF) error {
	if len(files) > maxFilesPerDF {
		return fmt.Errorf("files: %d, at most %d", len(files), maxFilesPerDF)
	}
	seen := map[uint16]bool{}
	for i, f := range files {
		if f == nil {
			return fmt.Errorf("files[%d]: null", i)
		}
		if seen[f.ID] {
			return fmt.Errorf("file %04X: identifier used twice", f.ID)
		}
		seen[f.ID] = true
		if err := f.validate(d); err != nil {
			return fmt.Errorf("file %04X: %w", f.ID, err)
		}
	}
	return nil
}

func (f *File) validate(d *DF) error {
	if f.ID == 0 || f.ID == 0x3F00 || f.ID == 0xFFFF {
		return fmt.Errorf("id: %04X is reserved (ISO/IEC 7816-4 7.1.1)", f.ID)
	}
	if len(f.Data) > maxEFBytes {
		return fmt.Errorf("data: %d bytes, at most %d", len(f.Data), maxEFBytes)
	}
	if len(f.Records) > maxRecords {
		return fmt.Errorf("records: %d, at most %d", len(f.Records), maxRecords)
	}
	for i, r := range f.Records {
		if len(r) > maxEFBytes {
			return fmt.Errorf("records[%d]: %d bytes, at most %d", i, len(r), maxEFBytes)
		}
	}
	if err := f.Read.validate(d); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	switch f.Kind {
	case Binary, Record, Opaque:
		if f.PIN != nil || f.Key != nil {
			return fmt.Errorf("kind %d holds a PIN or key", f.Kind)
		}
	case PINFile:
		if f.PIN == nil {
			return fmt.Errorf("pin: missing in a PIN file")
		}
		if err := f.PIN.validate(); err != nil {
			return fmt.Errorf("pin.%w", err)
		}
	case KeyFile:
		if f.Key == nil {
			return fmt.Errorf("key: missing in a key file")
		}
		priv, err := f.Key.Private()
		if err != nil {
			return fmt.Errorf("key.pkcs1: %w", err)
		}
		// The card's keys are RSA-2048 (docs/card.md §7); a huge one would
		// make every signature take seconds.
		if n := priv.N.BitLen(); n != keyBits {
			return fmt.Errorf("key.pkcs1: RSA-%d, want RSA-%d", n, keyBits)
		}
		if err := f.Key.Use.validate(d); err != nil {
			return fmt.Errorf("key.use: %w", err)
		}
	default:
		return fmt.Errorf("kind: %d is not a file kind (1–5)", f.Kind)
	}
	return nil
}

func (p *PIN) validate() error {
	switch {
	case p.Max < 1 || p.Max > maxPINTries:
		return fmt.Errorf("max: %d, want 1–%d", p.Max, maxPINTries)
	case p.Left < 0 || p.Left > p.Max:
		return fmt.Errorf("left: %d, want 0–%d (pin.max)", p.Left, p.Max)
	case len(p.Salt) == 0 || len(p.Salt) > 64:
		return fmt.Errorf("salt: %d bytes, want 1–64", len(p.Salt))
	case len(p.Hash) != 32:
		return fmt.Errorf("hash: %d bytes, want 32 (SHA-256)", len(p.Hash))
	case p.Format.Min < 1 || p.Format.Max < p.Format.Min || p.Format.Max > maxPINLength:
		return fmt.Errorf("format: length %d–%d, want 1 ≤ min ≤ max ≤ %d", p.Format.Min, p.Format.Max, maxPINLength)
	case p.Format.Charset != Digits && p.Format.Charset != UpperAlnum:
		return fmt.Errorf("format.charset: %q, want %q or %q", p.Format.Charset, Digits, UpperAlnum)
	}
	return nil
}

// validate checks that an access condition names PIN files of the DF.
func (a Access) validate(d *DF) error {
	for _, id := range a.AnyOf {
		if d == nil {
			return fmt.Errorf("any_of: PIN %04X outside an application DF", id)
		}
		if f := d.File(id); f == nil || f.Kind != PINFile {
			return fmt.Errorf("any_of: %04X is not a PIN file of the DF", id)
		}
	}
	if a.Never && len(a.AnyOf) > 0 {
		return fmt.Errorf("never together with any_of")
	}
	return nil
}

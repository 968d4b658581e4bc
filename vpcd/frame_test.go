package vpcd

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadFrame(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    []byte
		wantErr error
	}{
		{"control code", []byte{0, 1, 4}, []byte{4}, nil},
		{"apdu", []byte{0, 4, 0, 0xA4, 4, 0}, []byte{0, 0xA4, 4, 0}, nil},
		{"trailing bytes left unread", []byte{0, 1, 2, 0, 1}, []byte{2}, nil},
		{"clean end", nil, nil, io.EOF},
		{"half a header", []byte{0}, nil, io.ErrUnexpectedEOF},
		{"zero length", []byte{0, 0}, nil, ErrEmptyFrame},
		{"short body", []byte{0, 5, 1, 2}, nil, io.ErrUnexpectedEOF},
		{"max length, short body", []byte{0xFF, 0xFF, 1}, nil, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadFrame(bytes.NewReader(tt.in), nil)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ReadFrame error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); err == nil && diff != "" {
				t.Errorf("payload (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAppendFrame(t *testing.T) {
	if _, err := AppendFrame(nil, nil); !errors.Is(err, ErrEmptyFrame) {
		t.Errorf("empty payload: err = %v, want ErrEmptyFrame", err)
	}
	if _, err := AppendFrame(nil, make([]byte, MaxPayload+1)); !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("oversize payload: err = %v, want ErrFrameTooLarge", err)
	}
	f, err := AppendFrame([]byte{0xEE}, make([]byte, MaxPayload))
	if err != nil {
		t.Fatalf("max payload: %v", err)
	}
	if diff := cmp.Diff([]byte{0xEE, 0xFF, 0xFF}, f[:3]); diff != "" || len(f) != 3+MaxPayload {
		t.Errorf("max payload framed wrong (len %d):\n%s", len(f), diff)
	}
}

// oneByteReader hands out a byte per Read, like a peer whose segments
// arrive one by one; ReadFrame must still assemble whole frames.
type oneByteReader struct{ r io.Reader }

func (o oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

// FuzzReadFrame decodes arbitrary byte streams frame by frame. Every frame
// it accepts must re-encode to exactly the bytes it consumed, and every
// failure must be one of the documented errors. Seeds live in
// testdata/fuzz/FuzzReadFrame.
func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{0, 1, 4})
	f.Add([]byte{0, 1, 0, 0, 1, 1, 0, 1, 2, 0, 1, 4})
	f.Add([]byte{0, 0})
	f.Add([]byte{0xFF, 0xFF, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		var buf []byte
		consumed := 0
		for {
			p, err := ReadFrame(oneByteReader{r}, buf)
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, ErrEmptyFrame) {
					t.Fatalf("undocumented error %v", err)
				}
				if errors.Is(err, io.EOF) && consumed != len(data) {
					t.Fatalf("clean EOF after %d of %d bytes", consumed, len(data))
				}
				return
			}
			if len(p) == 0 || len(p) > MaxPayload {
				t.Fatalf("accepted a %d-byte payload", len(p))
			}
			enc, err := AppendFrame(nil, p)
			if err != nil {
				t.Fatalf("re-encoding accepted payload: %v", err)
			}
			if !bytes.Equal(enc, data[consumed:consumed+len(enc)]) {
				t.Fatalf("frame at %d re-encodes differently", consumed)
			}
			consumed += len(enc)
			buf = p
		}
	})
}

package cardinfo

import (
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"encoding/binary"
	"hash/crc32"
)

// The card face stores its printed fields as 1-bit greyscale PNG images and
// the photograph as greyscale JPEG 2000 in a JP2 file (docs/card.md §3.3;
// myna-card: "The rendered card-face fields are 1-bit greyscale", "JPEG 2000,
// in the JP2 container"). The simulator renders text legibly only where it
// matters little: digits get a 3×5 font, every other character a block
// pattern derived from its code point, so the images are valid, small and
// change when the text changes.

const (
	cellW, cellH = 4, 7 // a 3×5 glyph with one column and two rows of spacing
)

// digitFont holds 3×5 glyphs for 0–9, one row per 3 bits, top row first.
var digitFont = [10][5]byte{
	{7, 5, 5, 5, 7}, {2, 6, 2, 2, 7}, {7, 1, 7, 4, 7}, {7, 1, 7, 1, 7}, {5, 5, 7, 1, 1},
	{7, 4, 7, 1, 7}, {7, 4, 7, 5, 7}, {7, 1, 1, 1, 1}, {7, 5, 7, 5, 7}, {7, 5, 7, 1, 7},
}

// glyph returns the 3×5 pattern of r: the font for ASCII and full-width
// digits, a pattern from SHA-256 of the rune otherwise (blank for spaces).
func glyph(r rune) [5]byte {
	switch {
	case r >= '0' && r <= '9':
		return digitFont[r-'0']
	case r >= '０' && r <= '９':
		return digitFont[r-'０']
	case r == ' ' || r == '\u3000':
		return [5]byte{}
	}
	h := sha256.Sum256([]byte(string(r)))
	var g [5]byte
	for i := range g {
		g[i] = h[i]&7 | 2 // never empty
	}
	return g
}

// TextPNG renders s on one line as a 1-bit greyscale PNG, black on white.
func TextPNG(s string) []byte {
	runes := []rune(s)
	w := max(1, len(runes)*cellW+1)
	h := cellH
	pix := make([][]bool, h) // true = black
	for y := range pix {
		pix[y] = make([]bool, w)
	}
	for i, r := range runes {
		g := glyph(r)
		for y := range 5 {
			for x := range 3 {
				if g[y]>>(2-x)&1 == 1 {
					pix[1+y][1+i*cellW+x] = true
				}
			}
		}
	}
	return encodeGray1(w, h, pix)
}

// encodeGray1 writes a PNG of colour type 0 (greyscale), bit depth 1, no
// interlace (ISO/IEC 15948 11.2.2), each row with filter type 0.
func encodeGray1(w, h int, black [][]bool) []byte {
	stride := (w + 7) / 8
	var raw bytes.Buffer
	for y := range h {
		row := make([]byte, 1+stride) // filter byte 0, then bits, 1 = white
		for x := range w {
			if !black[y][x] {
				row[1+x/8] |= 0x80 >> (x % 8)
			}
		}
		raw.Write(row)
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(raw.Bytes()) // writes to a bytes.Buffer cannot fail
	zw.Close()

	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(w))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(h))
	ihdr = append(ihdr, 1, 0, 0, 0, 0) // depth 1, greyscale, deflate, filter 0, no interlace
	pngChunk(&out, "IHDR", ihdr)
	pngChunk(&out, "IDAT", z.Bytes())
	pngChunk(&out, "IEND", nil)
	return out.Bytes()
}

func pngChunk(out *bytes.Buffer, typ string, data []byte) {
	var hdr [8]byte
	binary.BigEndian.PutUint32(hdr[:4], uint32(len(data)))
	copy(hdr[4:], typ)
	out.Write(hdr[:])
	out.Write(data)
	crc := crc32.NewIEEE()
	crc.Write(hdr[4:])
	crc.Write(data)
	out.Write(binary.BigEndian.AppendUint32(nil, crc.Sum32()))
}

// PhotoJP2 returns a w×h 8-bit greyscale JPEG 2000 image in a JP2 file
// (ISO/IEC 15444-1 annex I): signature, file type, header (ihdr, colr
// greyscale) and the codestream. The codestream has one tile, no wavelet
// decomposition, the reversible 5/3 path and one layer whose only packet is
// empty (ISO/IEC 15444-1 B.10.3: a zero bit = no code-block included), so
// every sample decodes to the level-shifted zero: a flat mid-grey portrait.
// A real photograph would need an entropy coder this simulator does not carry.
// A zero dimension is raised to 1 (SIZ allows no empty image).
func PhotoJP2(w, h uint32) []byte {
	w, h = max(w, 1), max(h, 1)
	u32 := binary.BigEndian.AppendUint32
	u16 := binary.BigEndian.AppendUint16

	cs := []byte{0xFF, 0x4F}                      // SOC
	cs = append(cs, 0xFF, 0x51, 0x00, 0x29)       // SIZ, Lsiz = 38 + 3×1
	cs = u16(cs, 0)                               // Rsiz: no restrictions
	cs = u32(u32(cs, w), h)                       // Xsiz, Ysiz
	cs = u32(u32(cs, 0), 0)                       // XOsiz, YOsiz
	cs = u32(u32(cs, w), h)                       // XTsiz, YTsiz: one tile
	cs = u32(u32(cs, 0), 0)                       // XTOsiz, YTOsiz
	cs = u16(cs, 1)                               // Csiz
	cs = append(cs, 0x07, 0x01, 0x01)             // Ssiz 8-bit unsigned, XRsiz, YRsiz
	cs = append(cs, 0xFF, 0x52, 0x00, 0x0C)       // COD, Lcod = 12
	cs = append(cs, 0x00, 0x00, 0x00, 0x01, 0x00) // Scod, LRCP, 1 layer, no MCT
	cs = append(cs, 0x00, 0x04, 0x04, 0x00, 0x01) // 0 levels, 64×64 blocks, style 0, 5/3
	cs = append(cs, 0xFF, 0x5C, 0x00, 0x04)       // QCD, Lqcd = 4
	cs = append(cs, 0x40, 0x40)                   // 2 guard bits, no quantisation; ε = 8
	packet := []byte{0x00}                        // the empty packet
	cs = append(cs, 0xFF, 0x90, 0x00, 0x0A)       // SOT, Lsot = 10
	cs = u16(cs, 0)                               // Isot
	cs = u32(cs, uint32(12+2+len(packet)))        // Psot: SOT to the end of the tile-part
	cs = append(cs, 0x00, 0x01)                   // TPsot, TNsot
	cs = append(cs, 0xFF, 0x93)                   // SOD
	cs = append(cs, packet...)
	cs = append(cs, 0xFF, 0xD9) // EOC

	box := func(dst []byte, typ string, body []byte) []byte {
		dst = u32(dst, uint32(8+len(body)))
		dst = append(dst, typ...)
		return append(dst, body...)
	}
	ihdr := u32(u32(nil, h), w)
	ihdr = append(ihdr, 0x00, 0x01, 0x07, 0x07, 0x00, 0x00)  // 1 component, 8 bits, JPEG 2000, no IPR
	colr := []byte{0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x11} // enumerated, greyscale (17)

	var f []byte
	f = box(f, "jP  ", []byte{0x0D, 0x0A, 0x87, 0x0A})
	f = box(f, "ftyp", []byte("jp2 \x00\x00\x00\x00jp2 "))
	f = box(f, "jp2h", box(box(nil, "ihdr", ihdr), "colr", colr))
	return box(f, "jp2c", cs)
}

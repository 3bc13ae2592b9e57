package lfs

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// Bounds of git's pkt-line framing, which the transfer protocol uses.
const (
	// maxPacket is the largest packet, its four-byte header included
	// (git's LARGE_PACKET_MAX).
	maxPacket = 65520
	// MaxPayload is the most data one packet carries.
	MaxPayload = maxPacket - 4
)

// kind is what a packet is.
type kind int

const (
	data  kind = iota // a packet with a payload
	flush             // "0000": the end of a message
	delim             // "0001": between a message's arguments and its body
)

// ErrFraming is wrapped by every error for input that is not pkt-line
// framing at all: a bad header, an oversized or reserved packet. The
// session cannot continue after it.
var ErrFraming = errors.New("lfs: bad pkt-line framing")

// pktReader reads packets. A payload it returns is valid until the next
// read.
type pktReader struct {
	r   *bufio.Reader
	buf []byte
}

func newPktReader(r io.Reader) *pktReader {
	return &pktReader{r: bufio.NewReaderSize(r, 2*maxPacket), buf: make([]byte, MaxPayload)}
}

// next reads one packet. A clean EOF before a header is io.EOF; one in
// the middle of a packet io.ErrUnexpectedEOF.
func (p *pktReader) next() (kind, []byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(p.r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n, ok := parseHex4(hdr)
	switch {
	case !ok:
		return 0, nil, fmt.Errorf("%w: header %q", ErrFraming, hdr[:])
	case n == 0:
		return flush, nil, nil
	case n == 1:
		return delim, nil, nil
	case n < 4:
		// 0002 (response end) and 0003 are not part of this protocol.
		return 0, nil, fmt.Errorf("%w: reserved packet %04x", ErrFraming, n)
	case n > maxPacket:
		return 0, nil, fmt.Errorf("%w: packet of %d bytes, more than %d", ErrFraming, n, maxPacket)
	}
	b := p.buf[:n-4]
	if _, err := io.ReadFull(p.r, b); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, err
	}
	return data, b, nil
}

// parseHex4 reads a pkt-line header: four lowercase or uppercase hex
// digits, as git accepts them.
func parseHex4(h [4]byte) (int, bool) {
	n := 0
	for _, c := range h {
		var v byte
		switch {
		case '0' <= c && c <= '9':
			v = c - '0'
		case 'a' <= c && c <= 'f':
			v = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, false
		}
		n = n<<4 | int(v)
	}
	return n, true
}

// pktWriter writes packets, buffered: flush and delim packets end a
// message and push it out (see end).
type pktWriter struct {
	w *bufio.Writer
}

func newPktWriter(w io.Writer) *pktWriter {
	return &pktWriter{w: bufio.NewWriterSize(w, 2*maxPacket)}
}

// text writes s and a newline as one packet; s must fit.
func (p *pktWriter) text(s string) error {
	if len(s)+1 > MaxPayload {
		return fmt.Errorf("lfs: text packet of %d bytes", len(s)+1)
	}
	if err := p.header(len(s) + 1); err != nil {
		return err
	}
	if _, err := p.w.WriteString(s); err != nil {
		return err
	}
	return p.w.WriteByte('\n')
}

// data writes b, at most MaxPayload bytes, as one packet.
func (p *pktWriter) data(b []byte) error {
	if len(b) == 0 {
		return nil // an empty data packet would read as a flush
	}
	if err := p.header(len(b)); err != nil {
		return err
	}
	_, err := p.w.Write(b)
	return err
}

func (p *pktWriter) header(n int) error {
	_, err := fmt.Fprintf(p.w, "%04x", n+4)
	return err
}

func (p *pktWriter) delim() error {
	_, err := p.w.WriteString("0001")
	return err
}

// end writes a flush packet and sends everything buffered.
func (p *pktWriter) end() error {
	if _, err := p.w.WriteString("0000"); err != nil {
		return err
	}
	return p.w.Flush()
}

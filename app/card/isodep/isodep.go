// Package isodep is the ISO/IEC 14443-4 block protocol (ISO-DEP) that
// carries APDUs over the air to a contactless card, for readers that
// leave it to the host (the Sony RC-S380). PCD is the reader's side, PICC
// the card's (used by the simulator). Both follow the standard's block
// numbering rules, chaining in both directions and waiting-time
// extensions, so either side can talk to a real counterpart.
package isodep

import (
	"context"
	"errors"
	"fmt"
)

// Block control bytes (PCB), without CID or NAD.
const (
	pcbI     = 0x02 // I-block; | block number
	pcbChain = 0x10 // I-block: more follows
	pcbRACK  = 0xA2 // R(ACK); | block number
	pcbRNAK  = 0xB2 // R(NAK); | block number
	pcbWTX   = 0xF2 // S(WTX), followed by WTXM
	pcbDesel = 0xC2 // S(DESELECT)
)

// ErrProtocol is wrapped for blocks that break the protocol.
var ErrProtocol = errors.New("isodep: protocol error")

// ErrTransmission is wrapped by a Link's error for a frame lost on the
// air: a CRC or parity error on the card's answer, or no answer in time.
// The PCD recovers as ISO/IEC 14443-4 says (rules 4 and 6): it sends
// R(NAK), and the card either sends its last block again or, when our
// block never reached it, acknowledges the one before, and we send ours
// again. One bad frame no longer aborts the APDU.
var ErrTransmission = errors.New("isodep: frame lost on the air")

// Link carries one frame to the card and returns its answer: the reader's
// transceive command (CRC added and checked by the reader). A frame lost
// on the air is an error that wraps ErrTransmission.
type Link interface {
	Exchange(ctx context.Context, frame []byte) ([]byte, error)
}

// Retransmissions is how many R(NAK)s the PCD sends for one block before
// it gives up: enough for a hand that trembles over the reader, few
// enough that a card taken away is reported at once.
const Retransmissions = 3

// FSC of 256 bytes (FSCI 8) less PCB and CRC is the most one block holds.
const maxFSC = 256

// PCD is the reader side. It implements apdu.Transceiver.
type PCD struct {
	link Link
	fsc  int // the card's frame size, from ATQB
	bn   byte
	// MaxWTX bounds waiting-time extensions per exchange.
	MaxWTX int
}

// NewPCD returns the reader side over link for a card whose maximum frame
// size is fsc bytes (16 to 256).
func NewPCD(link Link, fsc int) *PCD {
	return &PCD{link: link, fsc: min(max(fsc, 16), maxFSC), MaxWTX: 64}
}

// FSCFromCode converts the FSCI code of ATQB (0-8) into bytes.
func FSCFromCode(code byte) int {
	sizes := []int{16, 24, 32, 40, 48, 64, 96, 128, 256}
	if int(code) < len(sizes) {
		return sizes[code]
	}
	return 256
}

// Transmit sends one APDU and returns the card's whole response.
func (p *PCD) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	room := p.fsc - 3 // PCB and two CRC bytes
	// Send: all but the last part chained, each acknowledged.
	for len(apdu) > room {
		resp, err := p.exchange(ctx, append([]byte{pcbI | pcbChain | p.bn}, apdu[:room]...))
		if err != nil {
			return nil, err
		}
		if len(resp) < 1 || resp[0]&0xF6 != pcbRACK&0xF6 || resp[0]&0x10 != 0 || resp[0]&1 != p.bn {
			return nil, fmt.Errorf("%w: chained block answered with % X, want R(ACK) %d", ErrProtocol, resp, p.bn)
		}
		p.bn ^= 1
		apdu = apdu[room:]
	}
	resp, err := p.exchange(ctx, append([]byte{pcbI | p.bn}, apdu...))
	if err != nil {
		return nil, err
	}
	var out []byte
	for {
		if len(resp) < 1 || resp[0]&0xE2 != pcbI || resp[0]&1 != p.bn {
			return nil, fmt.Errorf("%w: expected I-block %d, got % X", ErrProtocol, p.bn, resp)
		}
		p.bn ^= 1
		out = append(out, resp[1:]...)
		if resp[0]&pcbChain == 0 {
			return out, nil
		}
		if resp, err = p.exchange(ctx, []byte{pcbRACK | p.bn}); err != nil {
			return nil, err
		}
	}
}

// exchange sends a block and answers waiting-time extensions until a
// real answer arrives.
func (p *PCD) exchange(ctx context.Context, block []byte) ([]byte, error) {
	resp, err := p.send(ctx, block)
	for wtx := 0; err == nil && len(resp) == 2 && resp[0] == pcbWTX; wtx++ {
		if wtx >= p.MaxWTX {
			return nil, fmt.Errorf("%w: more than %d waiting-time extensions", ErrProtocol, p.MaxWTX)
		}
		resp, err = p.send(ctx, []byte{pcbWTX, resp[1] & 0x3F})
	}
	if err != nil {
		return nil, fmt.Errorf("isodep: %w", err)
	}
	return resp, nil
}

// send carries one block, recovering from frames lost on the air: R(NAK)
// with our block number (rule 4); an R(ACK) of the other number means the
// card never got the block, which goes again (rule 6); anything else is
// the card's last block, sent again (rule 11).
func (p *PCD) send(ctx context.Context, block []byte) ([]byte, error) {
	resp, err := p.link.Exchange(ctx, block)
	for try := 0; err != nil && errors.Is(err, ErrTransmission) && try < Retransmissions; try++ {
		resp, err = p.link.Exchange(ctx, []byte{pcbRNAK | p.bn})
		if err == nil && len(resp) == 1 && resp[0]&0xF6 == pcbRACK&0xF6 && resp[0]&0x10 == 0 && resp[0]&1 != p.bn {
			resp, err = p.link.Exchange(ctx, block)
		}
	}
	return resp, err
}

// Card is what a PICC serves: an APDU in, a response out.
type Card interface {
	Transmit(ctx context.Context, apdu []byte) ([]byte, error)
}

// PICC is the card side.
type PICC struct {
	card Card
	fsd  int  // the reader's frame size
	bn   byte // starts at 1 (rule C)
	in   []byte
	out  []byte // response not yet sent
	// WTX, when set, asks for one waiting-time extension before each
	// answer, as slow cards do (RSA signing).
	WTX bool
	wtx bool // an extension is outstanding
	// last is the block sent last, sent again for an R(NAK) of its
	// number (rule 11).
	last []byte
}

// NewPICC serves card to a reader with frame size fsd.
func NewPICC(card Card, fsd int) *PICC {
	return &PICC{card: card, fsd: min(max(fsd, 16), maxFSC), bn: 1}
}

// Handle answers one block from the reader.
func (p *PICC) Handle(ctx context.Context, block []byte) ([]byte, error) {
	out, err := p.handle(ctx, block)
	if err == nil {
		p.last = out
	}
	return out, err
}

func (p *PICC) handle(ctx context.Context, block []byte) ([]byte, error) {
	if len(block) == 0 {
		return nil, fmt.Errorf("%w: empty block", ErrProtocol)
	}
	pcb := block[0]
	switch {
	case pcb == pcbWTX && len(block) == 2 && p.wtx:
		p.wtx = false
		return p.respond(ctx)
	case pcb == pcbDesel:
		return []byte{pcbDesel}, nil
	case pcb&0xE2 == pcbI:
		p.bn ^= 1 // rule D
		p.in = append(p.in, block[1:]...)
		if pcb&pcbChain != 0 {
			return []byte{pcbRACK | p.bn}, nil
		}
		if p.WTX {
			p.wtx = true
			return []byte{pcbWTX, 1}, nil
		}
		return p.respond(ctx)
	case pcb&0xF6 == pcbRACK&0xF6 && pcb&0x10 == 0:
		if pcb&1 != p.bn { // rule E: an ACK of our chained block
			p.bn ^= 1
			return p.next(), nil
		}
		return nil, fmt.Errorf("%w: R(ACK) %d repeats the block number", ErrProtocol, pcb&1)
	case pcb&0xF6 == pcbRNAK&0xF6 && len(block) == 1:
		if pcb&1 == p.bn && p.last != nil { // rule 11: our answer was lost
			return p.last, nil
		}
		return []byte{pcbRACK | p.bn}, nil // rule 12: their block was lost
	}
	return nil, fmt.Errorf("%w: block % X", ErrProtocol, block)
}

func (p *PICC) respond(ctx context.Context) ([]byte, error) {
	apdu := p.in
	p.in = nil
	resp, err := p.card.Transmit(ctx, apdu)
	if err != nil {
		return nil, err
	}
	p.out = resp
	return p.next(), nil
}

// next is the next block of the pending response.
func (p *PICC) next() []byte {
	room := p.fsd - 3
	if len(p.out) > room {
		b := append([]byte{pcbI | pcbChain | p.bn}, p.out[:room]...)
		p.out = p.out[room:]
		return b
	}
	b := append([]byte{pcbI | p.bn}, p.out...)
	p.out = nil
	return b
}

//go:build !purego

#include "textflag.h"

// Nibble tables for the text classifier (see textidx.go): a byte's class
// bits are lo[b&15] & hi[b>>4]. Table 1: bits 0-5 word bytes ([0-9A-Za-z_]
// as six rectangles), bits 0-2 and 6-7 bytes that may start a check as a
// word's first byte (digits, A-Z, a b e g h r s w x). Table 2: bits 0-2 the
// trigger bytes + ( - @ : =, bit 3 '%' and '+'. Bytes >= 0x80 are in no
// class. Each 16-byte table is repeated for VPSHUFB's two lanes;
// TestEventMasks checks all 256 bytes against the scalar tables.
DATA lo1<>+0(SB)/8, $0xdf1f5f1f9fdf5f15
DATA lo1<>+8(SB)/8, $0x2a0a0a0a0a1e1fdf
DATA lo1<>+16(SB)/8, $0xdf1f5f1f9fdf5f15
DATA lo1<>+24(SB)/8, $0x2a0a0a0a0a1e1fdf
GLOBL lo1<>(SB), RODATA|NOPTR, $32
DATA hi1<>+0(SB)/8, $0x9048240201000000
DATA hi1<>+8(SB)/8, $0x0000000000000000
DATA hi1<>+16(SB)/8, $0x9048240201000000
DATA hi1<>+24(SB)/8, $0x0000000000000000
GLOBL hi1<>(SB), RODATA|NOPTR, $32
DATA lo2<>+0(SB)/8, $0x0000080000000002
DATA lo2<>+8(SB)/8, $0x0000050009040001
DATA lo2<>+16(SB)/8, $0x0000080000000002
DATA lo2<>+24(SB)/8, $0x0000050009040001
GLOBL lo2<>(SB), RODATA|NOPTR, $32
DATA hi2<>+0(SB)/8, $0x0000000204090000
DATA hi2<>+8(SB)/8, $0x0000000000000000
DATA hi2<>+16(SB)/8, $0x0000000204090000
DATA hi2<>+24(SB)/8, $0x0000000000000000
GLOBL hi2<>(SB), RODATA|NOPTR, $32
// Broadcast bytes: nibble mask, word bits, first-byte bits, trigger bits,
// '%'/'+' bit.
DATA consts<>+0(SB)/8, $0x0000000807c73f0f
GLOBL consts<>(SB), RODATA|NOPTR, $8

// CLASSIFY classifies the 32 bytes in Y0: AX = word bytes, BX = possible
// first bytes, R9 = trigger bytes (one bit per byte). The class bytes of
// table 2 are or-ed into Y13 (its '%'/'+' bit is tested at the end).
#define CLASSIFY \
	VPSRLW    $4, Y0, Y1; \
	VPAND     Y12, Y1, Y1; \
	VPAND     Y12, Y0, Y2; \
	VPSHUFB   Y2, Y8, Y3; \
	VPSHUFB   Y1, Y9, Y4; \
	VPAND     Y3, Y4, Y3; \
	VPSHUFB   Y2, Y10, Y5; \
	VPSHUFB   Y1, Y11, Y4; \
	VPAND     Y5, Y4, Y5; \
	VPOR      Y5, Y13, Y13; \
	VPAND     Y7, Y3, Y4; \
	VPCMPEQB  Y15, Y4, Y4; \
	VPMOVMSKB Y4, AX; \
	NOTL      AX; \
	VPAND     Y14, Y3, Y4; \
	VPCMPEQB  Y15, Y4, Y4; \
	VPMOVMSKB Y4, BX; \
	NOTL      BX; \
	VPAND     Y6, Y5, Y4; \
	VPCMPEQB  Y15, Y4, Y4; \
	VPMOVMSKB Y4, R9; \
	NOTL      R9

// EVENTS turns the classes of CLASSIFY into event bits in R10: trigger
// bytes, and possible first bytes whose previous byte is not a word byte
// (R8: whether the byte before the chunk is one; updated).
#define EVENTS \
	MOVL AX, R10; \
	SHLL $1, R10; \
	ORL  R8, R10; \
	NOTL R10; \
	ANDL BX, R10; \
	ORL  R9, R10; \
	MOVL AX, R8; \
	SHRL $31, R8

// PAIR combines the events in R10 of a vector holding b[0:h] in bytes 0..h-1
// and b[n-h:n] in bytes h..2h-1 (h <= n < 2h, CX = n): the second copy's
// bits for positions h..n-1 are bits 2h-n..h-1 of its half.
#define PAIR(h, lomask) \
	MOVL R10, AX; \
	ANDL $lomask, AX; \
	SHRL $h, R10; \
	ANDL $lomask, R10; \
	NEGQ CX; \
	ADDQ $(2*h), CX; \
	SHRL CX, R10; \
	SHLL $h, R10; \
	ORL  AX, R10

// func eventMasksAVX2(b *byte, n int, out *uint64) bool
TEXT ·eventMasksAVX2(SB), NOSPLIT, $0-25
	MOVQ b+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ out+16(FP), R11
	MOVQ R11, R12
	VMOVDQU lo1<>(SB), Y8
	VMOVDQU hi1<>(SB), Y9
	VMOVDQU lo2<>(SB), Y10
	VMOVDQU hi2<>(SB), Y11
	VPBROADCASTB consts<>+0(SB), Y12
	VPBROADCASTB consts<>+1(SB), Y7
	VPBROADCASTB consts<>+2(SB), Y14
	VPBROADCASTB consts<>+3(SB), Y6
	VPXOR   Y13, Y13, Y13
	VPXOR   Y15, Y15, Y15
	XORL    R8, R8
	XORQ    DX, DX
	CMPQ    CX, $32
	JB      small

loop:
	LEAQ    32(DX), AX
	CMPQ    AX, CX
	JA      tail
	VMOVDQU (SI)(DX*1), Y0
	CLASSIFY
	EVENTS
	MOVL    R10, (R11)
	ADDQ    $4, R11
	ADDQ    $32, DX
	JMP     loop

tail:
	// 1-31 bytes left: classify the last 32 bytes of b (never past its
	// end) and keep the bits of the new positions. Their previous bytes
	// are in the same chunk, so the carry does not matter.
	CMPQ    DX, CX
	JEQ     even
	VMOVDQU -32(SI)(CX*1), Y0
	CLASSIFY
	XORL    R8, R8
	EVENTS
	SUBQ    CX, DX
	ADDQ    $32, DX
	MOVQ    DX, CX
	SHRL    CX, R10
	MOVL    R10, (R11)
	ADDQ    $4, R11

even:
	// Whole 64-bit words: zero the upper half of the last one.
	MOVQ    R11, AX
	SUBQ    R12, AX
	TESTQ   $4, AX
	JZ      done
	MOVL    $0, (R11)
	JMP     done

small:
	// Under 32 bytes: two overlapping loads of h bytes (h <= n < 2h)
	// fill one vector, so nothing past b[n-1] is read.
	TESTQ   CX, CX
	JZ      done
	CMPQ    CX, $16
	JB      small8
	VMOVDQU (SI), X0
	VINSERTI128 $1, -16(SI)(CX*1), Y0, Y0
	CLASSIFY
	EVENTS
	PAIR(16, 0xffff)
	JMP     store1

small8:
	CMPQ    CX, $8
	JB      small4
	VMOVQ   (SI), X0
	VPINSRQ $1, -8(SI)(CX*1), X0, X0
	CLASSIFY
	EVENTS
	PAIR(8, 0xff)
	JMP     store1

small4:
	CMPQ    CX, $4
	JB      small1
	VMOVD   (SI), X0
	VPINSRD $1, -4(SI)(CX*1), X0, X0
	CLASSIFY
	EVENTS
	PAIR(4, 0xf)
	JMP     store1

small1:
	// 1-3 bytes: b[0], b[n/2] and b[n-1] in a register.
	MOVBLZX (SI), AX
	MOVQ    CX, DX
	SHRQ    $1, DX
	MOVBLZX (SI)(DX*1), BX
	SHLQ    $3, DX
	XCHGQ   CX, DX
	SHLL    CX, BX
	ORL     BX, AX
	LEAQ    -1(DX), CX
	MOVBLZX (SI)(CX*1), BX
	SHLQ    $3, CX
	SHLL    CX, BX
	ORL     BX, AX
	VMOVD   AX, X0
	CLASSIFY
	EVENTS

store1:
	MOVQ    R10, (R11)

done:
	VPBROADCASTB consts<>+4(SB), Y0
	VPTEST  Y0, Y13
	SETNE   ret+24(FP)
	VZEROUPPER
	RET

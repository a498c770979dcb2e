// DEFLATE (RFC 1951) and gzip (RFC 1952) decoding of untrusted input, for a
// compressed initramfs. Decoding is one-shot: the whole input is in memory,
// and the output goes to a sink callback in runs, so the caller may append it
// to a growing buffer, count it, or feed a cpio unpacker directly.
//
// Nothing here allocates. All the working memory (the history window and the
// Huffman tables, about 78 KiB) lives in an InflateState the caller provides;
// it is far too big for a 16 KiB kernel stack, so allocate it (make<>()) or
// keep it in static storage.
//
// Errors (Linux errno values):
//   EINVAL   corrupt data: bad magic, method, flags, block type, Huffman
//            code, distance, header CRC, CRC-32 or ISIZE, or trailing bytes
//            that are neither zero padding nor another gzip member
//   ENODATA  the input ends before the stream does (truncated)
//   EFBIG    the output would exceed the caller's limit; the sink never sees
//            a byte past the limit
//   other    whatever the sink returned (ENOMEM from a full buffer, say),
//            unchanged
// After an error the sink may already have received part of the output.
#pragma once

#include "lib/result.h"

namespace keel {

// Receives the decoded bytes in order, in runs of 1 byte to 64 KiB; `data`
// points into the InflateState and is valid only during the call. A non-ok
// Status stops decoding and is returned to the caller as is. `write` must
// not be null.
struct InflateSink {
    using WriteFn = Status (*)(void* ctx, const u8* data, usize len);
    WriteFn write;
    void* ctx;
};

constexpr usize kInflateNoLimit = static_cast<usize>(-1);

// The decoder's working memory. Its contents are private to lib/inflate.cpp;
// it needs no initialisation, and every call starts afresh. One state serves
// one decode at a time.
struct InflateState {
    static constexpr usize kWindow = 32 * KiB;   // DEFLATE's longest distance
    // Entries in the two-level decoding tables: a 2^10 (literal/length) or
    // 2^8 (distance) root table plus sub-tables for longer codes; inflate.cpp
    // shows these bounds suffice for every code it accepts.
    static constexpr usize kLitLenEntries = 2560;
    static constexpr usize kDistEntries = 768;
    static constexpr usize kCodeLenEntries = 128;

    // Output is written here and handed to the sink; the last kWindow bytes
    // stay behind as history when it fills. Twice the window keeps every
    // back-reference a straight copy, without wrap-around.
    u8 out[2 * kWindow];
    u32 litlen[kLitLenEntries];
    u32 dist[kDistEntries];
    u32 codelen[kCodeLenEntries];
    u8 lengths[288 + 32];
};

struct InflateResult {
    usize consumed;   // input bytes used, up to and including the last one
    usize produced;   // bytes given to the sink
};

// One raw DEFLATE stream at the start of `in`; bytes after its final block
// are left alone (see `consumed`).
Result<InflateResult> inflate_raw(InflateState& state, const u8* in, usize len, InflateSink sink,
                                  usize limit = kInflateNoLimit);

// Exactly one gzip member (header, DEFLATE data, CRC-32 and ISIZE checked) at
// the start of `in`; what follows is left alone.
Result<InflateResult> gunzip_member(InflateState& state, const u8* in, usize len, InflateSink sink,
                                    usize limit = kInflateNoLimit);

// A whole gzip file, as gunzip reads it: one or more members, whose outputs
// are concatenated. Zero bytes may pad between and after members (boot
// loaders and the initramfs format pad archives); anything else after a
// member is EINVAL. `limit` caps the total output. Returns the output size.
Result<usize> gunzip(InflateState& state, const u8* in, usize len, InflateSink sink,
                     usize limit = kInflateNoLimit);

// The decompressed size of a gzip file, by decoding it (ISIZE is untrusted
// and only holds the size modulo 2^32). EFBIG past `limit`.
Result<usize> gunzip_size(InflateState& state, const u8* in, usize len, usize limit = kInflateNoLimit);

// Decodes a gzip file into out[0, out_size); EFBIG if it does not fit.
// Returns the number of bytes written.
Result<usize> gunzip_to_buffer(InflateState& state, const u8* in, usize len, u8* out, usize out_size);

inline bool is_gzip(const u8* in, usize len) { return len >= 2 && in[0] == 0x1f && in[1] == 0x8b; }

}  // namespace keel

using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using AuditStream.Merkle;

namespace AuditStream.Ledger.Verification;

/// <summary>
/// RFC 9162 leaf and node hashes of many inputs at once, for the verifier: SHA-256 over eight messages side by side in
/// the lanes of 256-bit vectors (FIPS 180-4 §6.2, one message per lane). Leaves (33 bytes) and nodes (65 bytes) are
/// one and two blocks; through <see cref="System.Security.Cryptography.SHA256"/> each costs a call into OpenSSL whose
/// fixed overhead (context set-up, error queue) was most of the verifier's hashing time, here there is none.
/// </summary>
/// <remarks>Results equal <see cref="MerkleHash.Leaf(ReadOnlySpan{byte}, Span{byte})"/> and <see cref="MerkleHash.Node(ReadOnlySpan{byte}, ReadOnlySpan{byte}, Span{byte})"/>, which also hash the remainders and run where vectors are not accelerated.</remarks>
internal static class MerkleHashes8
{
    private const int Lanes = 8;
    private const int HashSize = MerkleHash.Size;

    private static ReadOnlySpan<uint> K =>
    [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ];

    private static ReadOnlySpan<uint> Initial => [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

    /// <summary>
    /// <paramref name="leaves"/>[i] = SHA-256(0x00 ‖ <paramref name="hashes"/>[i]) for each 32-byte hash; the two may be
    /// the same span.
    /// </summary>
    public static void Leaves(ReadOnlySpan<byte> hashes, Span<byte> leaves)
    {
        var done = Vector256.IsHardwareAccelerated ? Prefixed(0x00, hashes, HashSize, leaves) : 0;
        for (var i = done; i < hashes.Length / HashSize; i++)
        {
            MerkleHash.Leaf(hashes.Slice(i * HashSize, HashSize), leaves.Slice(i * HashSize, HashSize));
        }
    }

    /// <summary>
    /// <paramref name="parents"/>[i] = SHA-256(0x01 ‖ <paramref name="children"/>[2i] ‖ <paramref name="children"/>[2i+1])
    /// for each pair of 32-byte hashes; <paramref name="parents"/> may start where <paramref name="children"/> starts
    /// (a tree level hashed in place).
    /// </summary>
    public static void Nodes(ReadOnlySpan<byte> children, Span<byte> parents)
    {
        const int Pair = 2 * HashSize;
        var done = Vector256.IsHardwareAccelerated ? Prefixed(0x01, children, Pair, parents) : 0;
        for (var i = done; i < children.Length / Pair; i++)
        {
            MerkleHash.Node(children.Slice(i * Pair, HashSize), children.Slice((i * Pair) + HashSize, HashSize), parents.Slice(i * HashSize, HashSize));
        }
    }

    // SHA-256(prefix ‖ input) of each whole batch of eight inputs of 32 or 64 bytes; returns how many were hashed.
    // The message (prefix ‖ c ‖ 0x80 ‖ zeros ‖ bit length) in words: word 0 is prefix ‖ c[0..3), word k holds
    // c[4k-1 .. 4k+3), the word after c's last whole one c[^1] ‖ 0x80.
    private static int Prefixed(byte prefix, ReadOnlySpan<byte> inputs, int length, Span<byte> digests)
    {
        var n = inputs.Length / length;
        var blocks = length + 1 + 9 <= 64 ? 1 : 2;
        Span<Vector256<uint>> message = stackalloc Vector256<uint>[32];
        Span<Vector256<uint>> w = stackalloc Vector256<uint>[64];
        Span<Vector256<uint>> state = stackalloc Vector256<uint>[8];
        var i = 0;
        for (; i + Lanes <= n; i += Lanes)
        {
            // Every input is read before the first digest is written: digests may overwrite the inputs.
            var batch = inputs.Slice(i * length, Lanes * length);
            message.Clear();
            message[0] = Vector256.ShiftRightLogical(Word(batch, length, 0), 8) | Vector256.Create((uint)prefix << 24);
            for (var k = 1; k < length / 4; k++)
            {
                message[k] = Word(batch, length, (4 * k) - 1);
            }

            message[length / 4] = Vector256.ShiftLeft(LastByte(batch, length), 24) | Vector256.Create(0x0080_0000u);
            message[(16 * blocks) - 1] = Vector256.Create((uint)(length + 1) * 8);
            Start(state);
            for (var block = 0; block < blocks; block++)
            {
                message.Slice(16 * block, 16).CopyTo(w);
                Compress(state, w);
            }

            Write(state, digests.Slice(i * HashSize, Lanes * HashSize));
        }

        return i;
    }

    // The big-endian word at offset in each of the eight inputs of length stride.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Word(ReadOnlySpan<byte> batch, int stride, int offset) => Vector256.Create(
        BinaryPrimitives.ReadUInt32BigEndian(batch[offset..]),
        BinaryPrimitives.ReadUInt32BigEndian(batch[(stride + offset)..]),
        BinaryPrimitives.ReadUInt32BigEndian(batch[((2 * stride) + offset)..]),
        BinaryPrimitives.ReadUInt32BigEndian(batch[((3 * stride) + offset)..]),
        BinaryPrimitives.ReadUInt32BigEndian(batch[((4 * stride) + offset)..]),
        BinaryPrimitives.ReadUInt32BigEndian(batch[((5 * stride) + offset)..]),
        BinaryPrimitives.ReadUInt32BigEndian(batch[((6 * stride) + offset)..]),
        BinaryPrimitives.ReadUInt32BigEndian(batch[((7 * stride) + offset)..]));

    private static Vector256<uint> LastByte(ReadOnlySpan<byte> batch, int stride) => Vector256.Create(
        batch[stride - 1], batch[(2 * stride) - 1], batch[(3 * stride) - 1], batch[(4 * stride) - 1],
        batch[(5 * stride) - 1], batch[(6 * stride) - 1], batch[(7 * stride) - 1], (uint)batch[(8 * stride) - 1]);

    private static void Start(Span<Vector256<uint>> state)
    {
        for (var k = 0; k < 8; k++)
        {
            state[k] = Vector256.Create(Initial[k]);
        }
    }

    private static void Write(Span<Vector256<uint>> state, Span<byte> digests)
    {
        Span<uint> words = stackalloc uint[Lanes * 8];
        for (var k = 0; k < 8; k++)
        {
            state[k].CopyTo(words.Slice(k * Lanes, Lanes));
        }

        for (var lane = 0; lane < Lanes; lane++)
        {
            for (var k = 0; k < 8; k++)
            {
                BinaryPrimitives.WriteUInt32BigEndian(digests[((lane * HashSize) + (4 * k))..], words[(k * Lanes) + lane]);
            }
        }
    }

    // One SHA-256 block per lane; w[0..16) holds the block's words and is extended in place.
    private static void Compress(Span<Vector256<uint>> state, Span<Vector256<uint>> w)
    {
        for (var t = 16; t < 64; t++)
        {
            var x = w[t - 15];
            var y = w[t - 2];
            var s0 = Rotr(x, 7) ^ Rotr(x, 18) ^ Vector256.ShiftRightLogical(x, 3);
            var s1 = Rotr(y, 17) ^ Rotr(y, 19) ^ Vector256.ShiftRightLogical(y, 10);
            w[t] = w[t - 16] + s0 + w[t - 7] + s1;
        }

        var a = state[0];
        var b = state[1];
        var c = state[2];
        var d = state[3];
        var e = state[4];
        var f = state[5];
        var g = state[6];
        var h = state[7];
        var k = K;
        for (var t = 0; t < 64; t++)
        {
            var t1 = h + (Rotr(e, 6) ^ Rotr(e, 11) ^ Rotr(e, 25)) + (g ^ (e & (f ^ g))) + Vector256.Create(k[t]) + w[t];
            var t2 = (Rotr(a, 2) ^ Rotr(a, 13) ^ Rotr(a, 22)) + ((a & b) | (c & (a | b)));
            h = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }

        state[0] += a;
        state[1] += b;
        state[2] += c;
        state[3] += d;
        state[4] += e;
        state[5] += f;
        state[6] += g;
        state[7] += h;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Rotr(Vector256<uint> x, [ConstantExpected] int n) =>
        Vector256.ShiftRightLogical(x, n) | Vector256.ShiftLeft(x, 32 - n);
}

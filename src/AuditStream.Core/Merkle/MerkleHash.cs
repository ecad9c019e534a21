using System.Buffers;
using System.Security.Cryptography;

namespace AuditStream.Merkle;

/// <summary>The RFC 9162 §2.1.1 hashing of the ledger's Merkle tree (SHA-256 with domain-separated leaves and nodes).</summary>
public static class MerkleHash
{
    /// <summary>Length in bytes of every hash in the tree.</summary>
    public const int Size = SHA256.HashSizeInBytes;

    private const byte LeafPrefix = 0x00;
    private const byte NodePrefix = 0x01;

    // Leaves of our tree are 32-byte event hashes; longer inputs (the published test vectors) go through a pooled buffer.
    private const int StackLeafLimit = 256;

    /// <summary>MTH({}) = SHA-256(""), the root of the empty tree (RFC 9162 §2.1.1).</summary>
    public static ReadOnlySpan<byte> EmptyRoot =>
    [
        0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
        0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
    ];

    /// <summary>Writes the leaf hash SHA-256(0x00 ‖ <paramref name="data"/>) into <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="Size"/>.</exception>
    public static void Leaf(ReadOnlySpan<byte> data, Span<byte> destination)
    {
        EnsureDestination(destination);
        var length = data.Length + 1;
        byte[]? rented = null;
        var buffer = length <= StackLeafLimit
            ? stackalloc byte[StackLeafLimit]
            : (rented = ArrayPool<byte>.Shared.Rent(length));
        buffer[0] = LeafPrefix;
        data.CopyTo(buffer[1..]);
        SHA256.HashData(buffer[..length], destination);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Returns the leaf hash SHA-256(0x00 ‖ <paramref name="data"/>).</summary>
    public static byte[] Leaf(ReadOnlySpan<byte> data)
    {
        var hash = new byte[Size];
        Leaf(data, hash);
        return hash;
    }

    /// <summary>
    /// Writes the interior node hash SHA-256(0x01 ‖ <paramref name="left"/> ‖ <paramref name="right"/>) into
    /// <paramref name="destination"/>, which may overlap either input.
    /// </summary>
    /// <exception cref="ArgumentException">An input is not <see cref="Size"/> bytes, or the destination is too short.</exception>
    public static void Node(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right, Span<byte> destination)
    {
        if (left.Length != Size)
        {
            throw new ArgumentException($"A node's children must be {Size}-byte hashes.", nameof(left));
        }

        if (right.Length != Size)
        {
            throw new ArgumentException($"A node's children must be {Size}-byte hashes.", nameof(right));
        }

        EnsureDestination(destination);
        Span<byte> buffer = stackalloc byte[1 + (2 * Size)];
        buffer[0] = NodePrefix;
        left.CopyTo(buffer[1..]);
        right.CopyTo(buffer[(1 + Size)..]);
        SHA256.HashData(buffer, destination);
    }

    /// <summary>Returns the interior node hash SHA-256(0x01 ‖ <paramref name="left"/> ‖ <paramref name="right"/>).</summary>
    public static byte[] Node(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        var hash = new byte[Size];
        Node(left, right, hash);
        return hash;
    }

    private static void EnsureDestination(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            throw new ArgumentException($"The destination must hold at least {Size} bytes.", nameof(destination));
        }
    }
}

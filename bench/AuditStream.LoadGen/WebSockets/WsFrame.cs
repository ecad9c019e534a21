using System.Buffers.Binary;
using System.Security.Cryptography;

namespace AuditStream.LoadGen.WebSockets;

/// <summary>The parts of an RFC 6455 frame (§5.2) a counting client needs: the header of a server frame, and masked client frames.</summary>
internal readonly struct WsFrame
{
    public const byte OpContinuation = 0x0;
    public const byte OpText = 0x1;
    public const byte OpBinary = 0x2;
    public const byte OpClose = 0x8;
    public const byte OpPing = 0x9;
    public const byte OpPong = 0xA;

    public WsFrame(byte opcode, bool fin, int headerLength, long payloadLength)
    {
        Opcode = opcode;
        Fin = fin;
        HeaderLength = headerLength;
        PayloadLength = payloadLength;
    }

    public byte Opcode { get; }

    public bool Fin { get; }

    public int HeaderLength { get; }

    public long PayloadLength { get; }

    public long TotalLength => HeaderLength + PayloadLength;

    /// <summary>
    /// Reads a server frame's header from <paramref name="data"/>: false when fewer bytes than the header are there.
    /// Server frames are never masked (§5.1); a masked one is a protocol error.
    /// </summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> data, out WsFrame frame)
    {
        frame = default;
        if (data.Length < 2)
        {
            return false;
        }

        var b0 = data[0];
        var b1 = data[1];
        if ((b1 & 0x80) != 0)
        {
            throw new InvalidDataException("The server sent a masked frame (RFC 6455 §5.1 forbids it).");
        }

        var len7 = b1 & 0x7F;
        int header;
        long length;
        if (len7 < 126)
        {
            header = 2;
            length = len7;
        }
        else if (len7 == 126)
        {
            if (data.Length < 4)
            {
                return false;
            }

            header = 4;
            length = BinaryPrimitives.ReadUInt16BigEndian(data[2..]);
        }
        else
        {
            if (data.Length < 10)
            {
                return false;
            }

            header = 10;
            length = (long)BinaryPrimitives.ReadUInt64BigEndian(data[2..]);
        }

        frame = new WsFrame((byte)(b0 & 0x0F), (b0 & 0x80) != 0, header, length);
        return true;
    }

    /// <summary>A masked client frame (§5.3) with FIN set; <paramref name="payload"/> is at most 125 bytes (control frames).</summary>
    public static byte[] ClientControl(byte opcode, ReadOnlySpan<byte> payload)
    {
        if (payload.Length > 125)
        {
            throw new ArgumentOutOfRangeException(nameof(payload), "A control frame carries at most 125 bytes (RFC 6455 §5.5).");
        }

        return ClientFrame(opcode, payload);
    }

    /// <summary>A masked client frame (§5.3) with FIN set and a payload under 64 KiB.</summary>
    public static byte[] ClientFrame(byte opcode, ReadOnlySpan<byte> payload)
    {
        if (payload.Length > ushort.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(payload), "This client sends frames under 64 KiB only.");
        }

        var header = payload.Length < 126 ? 2 : 4;
        var frame = new byte[header + 4 + payload.Length];
        frame[0] = (byte)(0x80 | opcode);
        if (header == 2)
        {
            frame[1] = (byte)(0x80 | payload.Length);
        }
        else
        {
            frame[1] = 0x80 | 126;
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)payload.Length);
        }

        var mask = frame.AsSpan(header, 4);
        RandomNumberGenerator.Fill(mask);
        for (var i = 0; i < payload.Length; i++)
        {
            frame[header + 4 + i] = (byte)(payload[i] ^ mask[i & 3]);
        }

        return frame;
    }

    /// <summary>A client close frame with a status code (§5.5.1).</summary>
    public static byte[] ClientClose(ushort code)
    {
        Span<byte> payload = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(payload, code);
        return ClientControl(OpClose, payload);
    }
}

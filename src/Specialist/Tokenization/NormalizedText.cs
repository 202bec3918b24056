using System.Buffers;
using System.Text;

namespace Specialist.Tokenization;

/// <summary>
/// A text as <see cref="AligningNormalizer"/> normalised it, in UTF-8, and for each of its bytes and one past its end
/// the index in the original string of the character it came from. Its buffers are rented: dispose it.
/// </summary>
internal sealed class NormalizedText : IDisposable
{
    private byte[] _bytes;
    private int[] _toOriginal;
    private int _length;

    internal NormalizedText(int capacity)
    {
        _bytes = ArrayPool<byte>.Shared.Rent(capacity + 1);
        _toOriginal = ArrayPool<int>.Shared.Rent(capacity + 1);
    }

    public ReadOnlySpan<byte> Bytes => _bytes.AsSpan(0, _length);

    /// <summary>For each byte of <see cref="Bytes"/> and one past the end, the original string index it came from.</summary>
    public ReadOnlySpan<int> ToOriginal => _toOriginal.AsSpan(0, _length + 1);

    internal void Append(byte value, int origin)
    {
        // One slot stays free for the end's entry in the map.
        if (_length + 1 >= Math.Min(_bytes.Length, _toOriginal.Length)) Grow();
        _bytes[_length] = value;
        _toOriginal[_length++] = origin;
    }

    /// <summary>Drops the last <paramref name="count"/> bytes; returns where the first of them came from.</summary>
    internal int RemoveLast(int count)
    {
        _length -= count;
        return _toOriginal[_length];
    }

    /// <summary>Records where the text's end falls in the original string.</summary>
    internal void End(int origin) => _toOriginal[_length] = origin;

    /// <summary>The text as a string and, for each of its UTF-16 positions and one past its end, the original index.</summary>
    public (string Text, int[] ToOriginal) ToUtf16()
    {
        var text = Encoding.UTF8.GetString(Bytes);
        var toOriginal = new int[text.Length + 1];
        var c = 0;
        for (var b = 0; b < _length;)
        {
            var length = AligningNormalizer.Utf8CharLength(_bytes[b]);
            toOriginal[c++] = _toOriginal[b];
            if (length == 4) toOriginal[c++] = _toOriginal[b]; // a surrogate pair in UTF-16
            b += length;
        }
        toOriginal[c] = _toOriginal[_length];
        return (text, toOriginal);
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_bytes);
        ArrayPool<int>.Shared.Return(_toOriginal);
        (_bytes, _toOriginal, _length) = ([], [], 0);
    }

    private void Grow()
    {
        var bytes = ArrayPool<byte>.Shared.Rent(_bytes.Length * 2);
        var toOriginal = ArrayPool<int>.Shared.Rent(_toOriginal.Length * 2);
        Bytes.CopyTo(bytes);
        _toOriginal.AsSpan(0, _length).CopyTo(toOriginal);
        ArrayPool<byte>.Shared.Return(_bytes);
        ArrayPool<int>.Shared.Return(_toOriginal);
        (_bytes, _toOriginal) = (bytes, toOriginal);
    }
}

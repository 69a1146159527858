namespace OpenDcc.Core;

/// <summary>
/// A small file an operator names (a key, a certificate, a status matrix), read whole but never past a bound: a file
/// longer than any of its kind (a disk image, <c>/dev/zero</c>) is refused by its caller, not read until memory runs out.
/// </summary>
public static class BoundedFile
{
    /// <summary>The bytes of the file at <paramref name="path"/>; null when it holds more than <paramref name="maxBytes"/>.</summary>
    public static byte[]? ReadAtMost(string path, int maxBytes)
    {
        using var stream = File.OpenRead(path);
        var bytes = new byte[maxBytes + 1];
        var read = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
        return read <= maxBytes ? bytes[..read] : null;
    }
}

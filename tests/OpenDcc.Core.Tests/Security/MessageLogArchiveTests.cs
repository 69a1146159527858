using NodaTime;
using OpenDcc.Core.Security;

namespace OpenDcc.Core.Tests.Security;

/// <summary>Reading the message log's archive files (JSON Lines) back.</summary>
public class MessageLogArchiveTests
{
    [Fact]
    public async Task A_line_longer_than_any_entry_is_refused_naming_it_before_it_is_read_whole()
    {
        var entry = MessageLogChain.Extend(0, MessageLogChain.Genesis.ToArray(), [new MessageLogRecord(Instant.FromUtc(2026, 11, 28, 12, 0), MessageDirection.Inbound, null, "x", "I99", new byte[] { 1 })])[0];
        // /dev/zero, in effect, after an entry ended as Windows ends a line: NULs past the longest entry, then a line break.
        using var reader = new EntryThenNuls(MessageLogArchive.ToLine(entry) + "\r\n", MessageLogArchive.MaxLineChars + 1);

        var read = new List<MessageLogEntry>();
        var refused = await Assert.ThrowsAsync<FormatException>(async () =>
        {
            await foreach (var each in MessageLogArchive.ReadAsync(reader))
            {
                read.Add(each);
            }
        });

        Assert.Equal(entry.Hash, Assert.Single(read).Hash);
        Assert.Equal($"line 2: longer than {MessageLogArchive.MaxLineChars:N0} characters, which no archived entry is (is this an archive file?)", refused.Message);
    }

    /// <summary>A text, then that many NULs and a line break, made as they are read.</summary>
    private sealed class EntryThenNuls(string text, int nuls) : TextReader
    {
        private int at;

        private int Length => text.Length + nuls + 1;

        public override int Peek() => at < Length ? CharAt(at) : -1;

        public override int Read() => at < Length ? CharAt(at++) : -1;

        public override int Read(Span<char> buffer)
        {
            var count = 0;
            for (; count < buffer.Length && at < Length; count++)
            {
                buffer[count] = (char)Read();
            }
            return count;
        }

        public override ValueTask<int> ReadAsync(Memory<char> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        private char CharAt(int i) => i < text.Length ? text[i] : i < text.Length + nuls ? '\0' : '\n';
    }
}

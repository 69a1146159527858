using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NodaTime;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;
using static OpenDcc.Core.Tests.Security.MessageLogGenerators;

namespace OpenDcc.Core.Tests.Security;

/// <summary>The SHA-256 chain over the message log: what the hash covers, how entries link, and what verification finds.</summary>
public class MessageLogChainTests
{
    private static readonly Instant Now = Instant.FromUtc(2026, 11, 28, 12, 0);

    private static MessageLogRecord Sample(string payload, string outcome = "I99") =>
        new(Now, MessageDirection.Inbound, Eui64.Parse("90-B3-D5-1F-30-01-00-00"), "90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1000", outcome, System.Text.Encoding.UTF8.GetBytes(payload));

    // ComputeHash

    [Property]
    public Property Hash_is_a_deterministic_sha256_of_its_inputs() =>
        Prop.ForAll(LogRecord.ToArbitrary(), Sequence.ToArbitrary(), Hash.ToArbitrary(), (record, sequence, previous) =>
        {
            var copy = record with { Payload = record.Payload.ToArray() };
            var first = MessageLogChain.ComputeHash(sequence, previous, record);
            var second = MessageLogChain.ComputeHash(sequence, previous.ToArray(), copy);
            return first.Length == 32 && first.AsSpan().SequenceEqual(second);
        });

    [Fact]
    public void Hash_of_a_known_record_is_stable()
    {
        var hash = MessageLogChain.ComputeHash(1, MessageLogChain.Genesis.Span, Sample("<sr:Request/>"));

        Assert.Equal(hash, MessageLogChain.ComputeHash(1, new byte[32], Sample("<sr:Request/>")));
        Assert.NotEqual(hash, MessageLogChain.ComputeHash(1, new byte[32], Sample("<sr:Request />")));
    }

    [Fact]
    public void Hash_is_sha256_of_the_documented_encoding_so_logs_written_before_still_verify()
    {
        // Computed independently (Python hashlib) from the encoding in ComputeHash's summary: previous hash, sequence,
        // Unix ticks, direction, has-user flag, user, then correlation, outcome and payload each with a big-endian
        // 32-bit length (−1: no correlation).
        var withEverything = MessageLogChain.ComputeHash(1, MessageLogChain.Genesis.Span, Sample("<sr:Request/>"));
        var withoutUserOrCorrelation = MessageLogChain.ComputeHash(
            7,
            Enumerable.Range(0, 32).Select(i => (byte)i).ToArray(),
            new MessageLogRecord(Now, MessageDirection.Outbound, null, null, "400 Über", ReadOnlyMemory<byte>.Empty));

        Assert.Equal("542CE6D6E1A5A0C63080C9BE42509FA50254C269B1C52E2E08487889354EAA56", Convert.ToHexString(withEverything));
        Assert.Equal("3937F52728E3432A87C24B30423D5C72CCD697EAB1304B712062D2C079786ABF", Convert.ToHexString(withoutUserOrCorrelation));
    }

    [Property]
    public Property Changing_any_single_payload_byte_changes_the_hash() =>
        Prop.ForAll(
            (from record in LogRecord.Where(r => r.Payload.Length > 0)
             from index in Gen.Choose(0, record.Payload.Length - 1)
             from flip in Gen.Choose(1, 255)
             select (record, index, (byte)flip)).ToArbitrary(),
            Sequence.ToArbitrary(),
            Hash.ToArbitrary(),
            (change, sequence, previous) =>
            {
                var (record, index, flip) = change;
                var altered = record.Payload.ToArray();
                altered[index] ^= flip;
                return Differs(sequence, previous, record, record with { Payload = altered });
            });

    [Property]
    public Property Adding_or_removing_a_payload_byte_changes_the_hash() =>
        Prop.ForAll(LogRecord.ToArbitrary(), Gen.Choose(0, 255).ToArbitrary(), (record, extra) =>
        {
            byte[] longer = [.. record.Payload.Span, (byte)extra];
            return Differs(1, MessageLogChain.Genesis.ToArray(), record, record with { Payload = longer })
                && (record.Payload.Length == 0 || Differs(1, MessageLogChain.Genesis.ToArray(), record, record with { Payload = record.Payload[..^1] }));
        });

    [Property]
    public Property Changing_the_outcome_changes_the_hash() =>
        Prop.ForAll(LogRecord.ToArbitrary(), Text.ToArbitrary(), (record, outcome) =>
            outcome == record.Outcome || Differs(1, MessageLogChain.Genesis.ToArray(), record, record with { Outcome = outcome }));

    [Property]
    public Property Changing_the_correlation_changes_the_hash() =>
        Prop.ForAll(LogRecord.ToArbitrary(), OptionalText.ToArbitrary(), (record, correlation) =>
            correlation == record.Correlation || Differs(1, MessageLogChain.Genesis.ToArray(), record, record with { Correlation = correlation }));

    [Property]
    public Property Changing_the_user_changes_the_hash() =>
        Prop.ForAll(LogRecord.ToArbitrary(), User.ToArbitrary(), (record, user) =>
            user == record.User || Differs(1, MessageLogChain.Genesis.ToArray(), record, record with { User = user }));

    [Property]
    public Property Changing_the_direction_changes_the_hash() =>
        Prop.ForAll(LogRecord.ToArbitrary(), record =>
        {
            var other = record.Direction == MessageDirection.Inbound ? MessageDirection.Outbound : MessageDirection.Inbound;
            return Differs(1, MessageLogChain.Genesis.ToArray(), record, record with { Direction = other });
        });

    [Property]
    public Property Changing_the_time_by_any_number_of_ticks_changes_the_hash() =>
        Prop.ForAll(LogRecord.ToArbitrary(), At.ToArbitrary(), (record, at) =>
            at == record.At || Differs(1, MessageLogChain.Genesis.ToArray(), record, record with { At = at }));

    [Property]
    public Property Changing_the_sequence_changes_the_hash() =>
        Prop.ForAll(LogRecord.ToArbitrary(), Sequence.ToArbitrary(), Sequence.ToArbitrary(), (record, sequence, other) =>
            sequence == other
            || !MessageLogChain.ComputeHash(sequence, MessageLogChain.Genesis.Span, record).AsSpan()
                .SequenceEqual(MessageLogChain.ComputeHash(other, MessageLogChain.Genesis.Span, record)));

    [Property]
    public Property Changing_any_byte_of_the_previous_hash_changes_the_hash() =>
        Prop.ForAll(
            LogRecord.ToArbitrary(),
            Hash.ToArbitrary(),
            Gen.Zip(Gen.Choose(0, 31), Gen.Choose(1, 255)).ToArbitrary(),
            (record, previous, change) =>
            {
                var (index, flip) = change;
                var altered = previous.ToArray();
                altered[index] ^= (byte)flip;
                return !MessageLogChain.ComputeHash(5, previous, record).AsSpan().SequenceEqual(MessageLogChain.ComputeHash(5, altered, record));
            });

    [Fact]
    public void Absent_user_and_user_zero_hash_differently()
    {
        var absent = Sample("x") with { User = null };

        Assert.True(Differs(1, new byte[32], absent, absent with { User = new Eui64(0) }));
    }

    [Fact]
    public void Absent_correlation_and_empty_correlation_hash_differently()
    {
        var absent = Sample("x") with { Correlation = null };

        Assert.True(Differs(1, new byte[32], absent, absent with { Correlation = "" }));
    }

    [Fact]
    public void Moving_text_between_correlation_and_outcome_changes_the_hash()
    {
        var record = Sample("x") with { Correlation = "ab", Outcome = "c" };

        Assert.True(Differs(1, new byte[32], record, record with { Correlation = "a", Outcome = "bc" }));
    }

    // Extend

    [Property]
    public Property Extend_numbers_from_the_last_sequence_and_links_each_entry_to_the_one_before() =>
        Prop.ForAll(Gen.ListOf(LogRecord).ToArbitrary(), Gen.Choose(0, 1_000_000).ToArbitrary(), Hash.ToArbitrary(), (records, last, lastHash) =>
        {
            var entries = MessageLogChain.Extend(last, lastHash, records);
            if (entries.Length != records.Count)
            {
                return false;
            }
            var previous = lastHash;
            for (var i = 0; i < entries.Length; i++)
            {
                var e = entries[i];
                if (e.Sequence != last + 1 + i
                    || !ReferenceEquals(e.Record, records[i])
                    || !e.PreviousHash.AsSpan().SequenceEqual(previous)
                    || !e.Hash.AsSpan().SequenceEqual(MessageLogChain.ComputeHash(e.Sequence, previous, e.Record)))
                {
                    return false;
                }
                previous = e.Hash;
            }
            return true;
        });

    [Fact]
    public void Extending_an_empty_log_starts_at_1_from_the_genesis_hash()
    {
        var entries = MessageLogChain.Extend(0, MessageLogChain.Genesis.ToArray(), [Sample("a"), Sample("b")]);

        Assert.Equal([1L, 2L], entries.Select(e => e.Sequence));
        Assert.Equal(new byte[32], entries[0].PreviousHash);
        Assert.Equal(entries[0].Hash, entries[1].PreviousHash);
        Assert.Empty(MessageLogChain.Extend(7, new byte[32], []));
    }

    // VerifyAsync

    [Fact]
    public async Task Empty_log_is_intact()
    {
        var result = await MessageLogChain.VerifyAsync(new InMemoryMessageLog());

        Assert.True(result.IsIntact);
        Assert.Equal(0, result.EntriesChecked);
        Assert.Null(result.Fault);
    }

    [Fact]
    public async Task Log_appended_in_several_batches_is_intact()
    {
        var log = await LogOf("a", "b", "c");
        await log.AppendAsync([Sample("d"), Sample("e", "I0")]);

        var result = await MessageLogChain.VerifyAsync(log);

        Assert.True(result.IsIntact, result.Fault);
        Assert.Equal(5, result.EntriesChecked);
        Assert.Equal(5, log.Head!.Value.Sequence);
    }

    [Fact]
    public async Task Payload_altered_in_place_is_found_by_its_content()
    {
        var log = await LogOf("a", "b", "c", "d");
        log.Entries[2] = log.Entries[2] with { Record = Sample("C") };

        var result = await MessageLogChain.VerifyAsync(log);

        Assert.False(result.IsIntact);
        Assert.Equal(3L, result.FirstBrokenSequence);
        Assert.Equal(3, result.EntriesChecked);
        Assert.Contains("content does not match its hash", result.Fault, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Outcome_altered_in_place_is_found_by_its_content()
    {
        var log = await LogOf("a", "b");
        log.Entries[0] = log.Entries[0] with { Record = log.Entries[0].Record with { Outcome = "I0" } };

        var result = await MessageLogChain.VerifyAsync(log);

        Assert.Equal(1L, result.FirstBrokenSequence);
        Assert.Contains("content", result.Fault, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Entry_rewritten_with_a_fresh_hash_is_found_by_the_next_entrys_link()
    {
        var log = await LogOf("a", "b", "c");
        var forged = Sample("forged");
        log.Entries[1] = log.Entries[1] with { Record = forged, Hash = MessageLogChain.ComputeHash(2, log.Entries[0].Hash, forged) };

        var result = await MessageLogChain.VerifyAsync(log);

        Assert.Equal(3L, result.FirstBrokenSequence);
        Assert.Equal(3, result.EntriesChecked);
        Assert.Contains("link to the previous entry", result.Fault, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Last_entry_rewritten_with_a_fresh_hash_is_found_by_the_head()
    {
        var log = await LogOf("a", "b", "c");
        var forged = Sample("forged");
        log.Entries[2] = log.Entries[2] with { Record = forged, Hash = MessageLogChain.ComputeHash(3, log.Entries[1].Hash, forged) };

        var result = await MessageLogChain.VerifyAsync(log);

        Assert.Equal(3L, result.FirstBrokenSequence);
        Assert.Contains("chain head does not match", result.Fault, StringComparison.Ordinal);
    }

    [Fact]
    public async Task First_entry_not_linked_to_genesis_is_found()
    {
        var log = new InMemoryMessageLog();
        var spliced = MessageLogChain.Extend(0, [.. Enumerable.Repeat((byte)0xAA, 32)], [Sample("a")]);
        log.Entries.AddRange(spliced);
        log.Head = (1, spliced[0].Hash);

        var result = await MessageLogChain.VerifyAsync(log);

        Assert.Equal(1L, result.FirstBrokenSequence);
        Assert.Contains("link", result.Fault, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Entry_removed_from_the_middle_is_reported_missing()
    {
        var log = await LogOf("a", "b", "c", "d");
        log.Entries.RemoveAt(1);

        var result = await MessageLogChain.VerifyAsync(log);

        Assert.Equal(2L, result.FirstBrokenSequence);
        Assert.Equal(1, result.EntriesChecked);
        Assert.Equal("entry 2 is missing (next stored entry is 3)", result.Fault);
    }

    [Fact]
    public async Task Entries_swapped_are_found_at_the_first_out_of_place()
    {
        var log = await LogOf("a", "b", "c");
        (log.Entries[1], log.Entries[2]) = (log.Entries[2], log.Entries[1]);

        var result = await MessageLogChain.VerifyAsync(log);

        Assert.Equal(2L, result.FirstBrokenSequence);
    }

    [Fact]
    public async Task Entries_cut_from_the_end_are_reported_missing_from_the_end()
    {
        var log = await LogOf("a", "b", "c", "d", "e");
        log.Entries.RemoveRange(3, 2);

        var result = await MessageLogChain.VerifyAsync(log);

        Assert.Equal(4L, result.FirstBrokenSequence);
        Assert.Equal(3, result.EntriesChecked);
        Assert.Equal("entries 4 to 5 are missing from the end of the log", result.Fault);
    }

    [Fact]
    public async Task Every_entry_deleted_is_found_by_the_head()
    {
        var log = await LogOf("a", "b", "c");
        log.Entries.Clear();

        var result = await MessageLogChain.VerifyAsync(log);

        Assert.Equal(1L, result.FirstBrokenSequence);
        Assert.Equal(0, result.EntriesChecked);
        Assert.Contains("entries 1 to 3 are missing", result.Fault, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Head_with_another_hash_is_a_mismatch()
    {
        var log = await LogOf("a", "b");
        log.Head = (2, new byte[32]);

        var result = await MessageLogChain.VerifyAsync(log);

        Assert.Equal(2L, result.FirstBrokenSequence);
        Assert.Equal("the chain head does not match the last entry", result.Fault);
    }

    [Fact]
    public async Task Head_behind_the_last_entry_is_a_mismatch()
    {
        var log = await LogOf("a", "b", "c");
        log.Head = (2, log.Entries[1].Hash);

        var result = await MessageLogChain.VerifyAsync(log);

        Assert.False(result.IsIntact);
        Assert.Equal(2L, result.FirstBrokenSequence);
        Assert.Contains("chain head does not match", result.Fault, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_head_over_a_non_empty_log_is_reported()
    {
        var log = await LogOf("a", "b");
        log.Head = null;

        var result = await MessageLogChain.VerifyAsync(log);

        Assert.False(result.IsIntact);
        Assert.Equal("the chain head is missing", result.Fault);
    }

    [Property(MaxTest = 50)]
    public Property Any_single_byte_altered_in_any_entry_is_found_at_that_entry() =>
        Prop.ForAll(
            (from records in Gen.NonEmptyListOf(LogRecord.Where(r => r.Payload.Length > 0))
             from target in Gen.Choose(0, records.Count - 1)
             from index in Gen.Choose(0, records[target].Payload.Length - 1)
             from flip in Gen.Choose(1, 255)
             select (records, target, index, (byte)flip)).ToArbitrary(),
            async change =>
            {
                var (records, target, index, flip) = change;
                var log = new InMemoryMessageLog();
                await log.AppendAsync(records);
                var intact = await MessageLogChain.VerifyAsync(log);
                var payload = log.Entries[target].Record.Payload.ToArray();
                payload[index] ^= flip;
                log.Entries[target] = log.Entries[target] with { Record = log.Entries[target].Record with { Payload = payload } };

                var result = await MessageLogChain.VerifyAsync(log);

                return intact.IsIntact && intact.EntriesChecked == records.Count && result.FirstBrokenSequence == target + 1;
            });

    private static async Task<InMemoryMessageLog> LogOf(params string[] payloads)
    {
        var log = new InMemoryMessageLog();
        await log.AppendAsync([.. payloads.Select(p => Sample(p))]);
        Assert.True((await MessageLogChain.VerifyAsync(log)).IsIntact);
        return log;
    }

    private static bool Differs(long sequence, byte[] previous, MessageLogRecord original, MessageLogRecord changed) =>
        !MessageLogChain.ComputeHash(sequence, previous, original).AsSpan().SequenceEqual(MessageLogChain.ComputeHash(sequence, previous, changed));
}

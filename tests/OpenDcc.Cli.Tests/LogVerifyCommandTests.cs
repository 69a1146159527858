using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Data.Sqlite;
using NodaTime;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;
using OpenDcc.Storage;

namespace OpenDcc.Cli.Tests;

public sealed class LogVerifyCommandTests : IDisposable
{
    private readonly CliRun cli = new();

    [Fact]
    public async Task Log_verify_passes_an_intact_log_and_names_the_entry_whose_byte_was_altered_with_raw_sql()
    {
        await using (var store = await OpenDccStore.OpenSqliteAsync(cli.DataDirectory, cli.Clock))
        {
            for (var i = 1; i <= 20; i++)
            {
                await store.MessageLog.AppendAsync([new MessageLogRecord(
                    cli.Clock.GetCurrentInstant(), i % 2 == 0 ? MessageDirection.Outbound : MessageDirection.Inbound,
                    Eui64.Parse("90-B3-D5-1F-30-01-00-00"), $"request {i}", "I99", Encoding.UTF8.GetBytes($"<sr:Request>{i}</sr:Request>"))]);
            }
        }
        var (code, output, _) = await cli.RunWithDataAsync("log", "verify");
        Assert.Equal(0, code);
        Assert.Contains("message log intact: 20 entries", output, StringComparison.Ordinal);

        // Flip one bit of one stored payload byte, behind the application's back.
        await using (var raw = new SqliteConnection($"Data Source={Path.Combine(cli.DataDirectory, OpenDccStore.SqliteFileName)}"))
        {
            await raw.OpenAsync();
            await using var tamper = raw.CreateCommand();
            tamper.CommandText = "UPDATE message_log SET payload = CAST(replace(CAST(payload AS TEXT), '13<', '14<') AS BLOB) WHERE sequence = 13";
            Assert.Equal(1, await tamper.ExecuteNonQueryAsync());
        }
        var (broken, _, error) = await cli.RunWithDataAsync("log", "verify");
        Assert.Equal(1, broken);
        Assert.StartsWith("message log broken at entry 13:", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Log_show_lists_the_newest_entries_with_their_outcome_or_those_from_a_sequence()
    {
        await using (var store = await OpenDccStore.OpenSqliteAsync(cli.DataDirectory, cli.Clock))
        {
            for (var i = 1; i <= 30; i++)
            {
                await store.MessageLog.AppendAsync([new MessageLogRecord(
                    cli.Clock.GetCurrentInstant(), i % 2 == 0 ? MessageDirection.Outbound : MessageDirection.Inbound,
                    Eui64.Parse("90-B3-D5-1F-30-01-00-00"), $"request-{i}", i == 29 ? "E42 AuthenticationFailure: UnknownCertificate" : "I99", new byte[i])]);
            }
        }

        var (code, output, _) = await cli.RunWithDataAsync("log", "show", "--last", "3");
        Assert.Equal(0, code);
        Assert.DoesNotContain("request-27 ", output, StringComparison.Ordinal);
        Assert.Matches(@"28\s+2026-11-28T09:00:00.000Z\s+out\s+90-B3-D5-1F-30-01-00-00\s+request-28\s+I99\s+28", output);
        Assert.Matches(@"29\s+\S+\s+in\s+\S+\s+request-29\s+E42 AuthenticationFailure: UnknownCertificate\s+29", output);
        Assert.Contains("entries 28 to 30 of 30", output, StringComparison.Ordinal);

        (code, output, _) = await cli.RunWithDataAsync("log", "show", "--from", "5", "--last", "2");
        Assert.Equal(0, code);
        Assert.Contains("request-6 ", output, StringComparison.Ordinal);
        Assert.DoesNotContain("request-7 ", output, StringComparison.Ordinal);
        Assert.Contains("entries 5 to 6 of 30", output, StringComparison.Ordinal);

        var (refused, _, error) = await cli.RunWithDataAsync("log", "show", "--last", "0");
        Assert.Equal(1, refused);
        Assert.StartsWith("opendcc: --last:", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Log_show_keeps_each_request_id_whole_on_its_line_however_long_the_outcome_so_it_can_be_copied()
    {
        var request = new RequestId(Eui64.Parse("90-B3-D5-1F-30-01-00-00"), Eui64.Parse("00-DB-12-34-56-78-90-A0"), 1_764_535_200_123);
        await using (var store = await OpenDccStore.OpenSqliteAsync(cli.DataDirectory, cli.Clock))
        {
            await store.MessageLog.AppendAsync([new MessageLogRecord(cli.Clock.GetCurrentInstant(), MessageDirection.Inbound, request.Originator, $"{request}",
                "E42 AuthenticationFailure: " + string.Join(' ', Enumerable.Repeat("the certificate named by the signature's X509IssuerSerial is not bound to the originator", 3)), new byte[] { 1 })]);
        }

        var (code, output, _) = await cli.RunWithDataAsync("log", "show");

        Assert.Equal(0, code);
        Assert.Contains($"{request}", output, StringComparison.Ordinal);
        Assert.Contains($"{request.Originator}", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Log_payload_of_an_entry_without_one_says_so_on_the_error_stream_and_prints_nothing()
    {
        await using (var store = await OpenDccStore.OpenSqliteAsync(cli.DataDirectory, cli.Clock))
        {
            await store.MessageLog.AppendAsync([new MessageLogRecord(cli.Clock.GetCurrentInstant(), MessageDirection.Inbound, null, null, "400 empty body", Array.Empty<byte>())]);
        }

        var (code, output, error) = await cli.RunWithDataAsync("log", "payload", "--seq", "1");

        Assert.Equal(0, code);
        Assert.Equal("", output);
        Assert.Equal("entry 1 has no payload (400 empty body)", error.Trim());
    }

    [Fact]
    public async Task Log_show_request_id_shows_what_became_of_one_request_and_log_payload_prints_or_writes_its_message()
    {
        var request = new RequestId(Eui64.Parse("90-B3-D5-1F-30-01-00-00"), Eui64.Parse("00-DB-12-34-56-78-90-A0"), 1000);
        var signed = Encoding.UTF8.GetBytes("<sr:Request>signed é</sr:Request>");
        await using (var store = await OpenDccStore.OpenSqliteAsync(cli.DataDirectory, cli.Clock))
        {
            MessageLogRecord Entry(MessageDirection direction, string correlation, string outcome, byte[] payload) =>
                new(cli.Clock.GetCurrentInstant(), direction, request.Originator, correlation, outcome, payload);
            await store.MessageLog.AppendAsync([Entry(MessageDirection.Inbound, $"{request}", "I99", signed), Entry(MessageDirection.Outbound, $"{request}", "I99", [2])]);
            cli.Clock.Advance(Duration.FromMilliseconds(1234));
            await store.MessageLog.AppendAsync([Entry(MessageDirection.Inbound, "another request", "I99", [3]), Entry(MessageDirection.Outbound, $"{request}", "I0; Delivered", [4])]);
        }

        // The RequestID as a user might type it: lower case, without dashes.
        var (code, output, _) = await cli.RunWithDataAsync("log", "show", "--request-id", "90b3d51f30010000:00db1234567890a0:1000");
        Assert.Equal(0, code);
        Assert.Matches(@"1\s+2026-11-28T09:00:00.000Z\s+in\s", output);
        Assert.Matches(@"4\s+2026-11-28T09:00:01.234Z\s+out\s+\S+\s+\S+\s+I0; Delivered", output);
        Assert.DoesNotContain("another request", output, StringComparison.Ordinal);
        Assert.Contains($"3 entries for RequestID {request} among entries 1 to 4", output, StringComparison.Ordinal);

        (code, output, _) = await cli.RunWithDataAsync("log", "payload", "--seq", "1");
        Assert.Equal(0, code);
        Assert.Equal("<sr:Request>signed é</sr:Request>", output.Trim());
        var file = Path.Combine(cli.DataDirectory, "request.xml");
        (code, output, _) = await cli.RunWithDataAsync("log", "payload", "--seq", "1", "--out", file);
        Assert.Equal(0, code);
        Assert.Equal(signed, await File.ReadAllBytesAsync(file));
        Assert.Contains($"entry 1: {signed.Length} bytes written to {file}", output, StringComparison.Ordinal);
        // A file is never overwritten, and a directory or a missing one is named.
        Assert.Equal($"opendcc: --out: {file} exists; give a path that does not exist (a file is not overwritten)", (await cli.RunWithDataAsync("log", "payload", "--seq", "2", "--out", file)).Error.Trim());
        Assert.Equal(signed, await File.ReadAllBytesAsync(file));
        Assert.Equal($"opendcc: --out: {cli.DataDirectory} is a directory, not a file", (await cli.RunWithDataAsync("log", "payload", "--seq", "2", "--out", cli.DataDirectory)).Error.Trim());
        Assert.StartsWith("opendcc: --out: the directory ", (await cli.RunWithDataAsync("log", "payload", "--seq", "2", "--out", Path.Combine(cli.DataDirectory, "no", "such.xml"))).Error, StringComparison.Ordinal);
        var garbage = Path.Combine(cli.DataDirectory, "garbage.jsonl");
        await File.WriteAllTextAsync(garbage, "garbage\n");
        Assert.Equal($"opendcc: --archive {garbage}: line 1: not an archived entry: not a JSON object of the archive's fields (unreadable at byte 1)", (await cli.RunWithDataAsync("log", "verify", "--archive", garbage)).Error.Trim());

        Assert.Equal("opendcc: --seq: no entry 5 (the log has 4 entries)", (await cli.RunWithDataAsync("log", "payload", "--seq", "5")).Error.Trim());
        Assert.StartsWith("opendcc: --request-id:", (await cli.RunWithDataAsync("log", "show", "--request-id", "not-a-request")).Error, StringComparison.Ordinal);
        // No index by RequestID: a window of entries is looked through, the newest 100,000 unless told.
        (_, output, _) = await cli.RunWithDataAsync("log", "show", "--request-id", $"{request}", "--from", "3", "--within", "2");
        Assert.Contains($"1 entry for RequestID {request} among entries 3 to 4; --from and --within look elsewhere (the log holds 1 to 4)", output, StringComparison.Ordinal);
        Assert.StartsWith("opendcc: --within:", (await cli.RunWithDataAsync("log", "show", "--request-id", $"{request}", "--within", "0")).Error, StringComparison.Ordinal);
        // A --from past the newest entry (as far as it goes) looks through nothing, and says so.
        foreach (var past in new[] { "5", "9223372036854775807" })
        {
            (_, output, _) = await cli.RunWithDataAsync("log", "show", "--request-id", $"{request}", "--from", past);
            Assert.Contains($"no entries for RequestID {request}: --from {long.Parse(past, CultureInfo.InvariantCulture):N0} is past the newest entry, 4", output, StringComparison.Ordinal);
        }
        Assert.Contains($"no entries for RequestID {request with { Counter = 1 }}", (await cli.RunWithDataAsync("log", "show", "--request-id", $"{request with { Counter = 1 }}")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_archive_stopped_while_it_removed_its_entries_verifies_with_the_store_and_with_the_archive_made_again()
    {
        await LogRequestsASecondApartAsync(30);
        // What 'log archive --through 20' leaves when killed after removing entries 1 to 10 of the 20 it wrote.
        var (removedTen, stopped) = await ArchiveStoppedAfterRemovingTenOfTwentyAsync();

        var (code, output, error) = await cli.RunWithDataAsync("log", "verify", "--archive", stopped);
        Assert.True(code == 0, error);
        Assert.Contains("the store's log goes on from the archives given, which hold its entries 11 to 20 as well (an archive stopped before it had removed them)", output, StringComparison.Ordinal);
        Assert.Contains("message log intact: 20 entries", output, StringComparison.Ordinal);

        // Made again, the archive holds 11 to 20 once more: the two files and the store are still one chain.
        var again = Path.Combine(cli.DataDirectory, "again.jsonl");
        Assert.Equal(0, (await cli.RunWithDataAsync("log", "archive", "--through", "20", "--out", again)).ExitCode);
        (code, output, error) = await cli.RunWithDataAsync("log", "verify", "--archive", stopped, "--archive", again);
        Assert.True(code == 0, error);
        Assert.Contains("archive intact: entries 11 to 20 (10 entries), going on from the archives before it, which hold its entries 11 to 20 as well", output, StringComparison.Ordinal);
        Assert.Contains("the store's log goes on from the last archive given (entry 20)", output, StringComparison.Ordinal);

        // An overlapping file that is another stretch of the chain from entry 10 (its hashes made to fit) is found out.
        string[] lines = await File.ReadAllLinesAsync(again);
        var tenth = (await File.ReadAllLinesAsync(removedTen))[^1];
        var afterTenth = MessageLogArchive.ReadAsync(new StringReader(tenth)).ToBlockingEnumerable().Single();
        var forged = MessageLogChain.Extend(10, afterTenth.Hash, [.. Enumerable.Range(11, 10).Select(i => new MessageLogRecord(cli.Clock.GetCurrentInstant(), MessageDirection.Inbound, null, $"forged-{i}", "I99", new byte[] { 1 }))]);
        var forgedFile = Path.Combine(cli.DataDirectory, "forged.jsonl");
        await File.WriteAllLinesAsync(forgedFile, forged.Select(MessageLogArchive.ToLine));
        Assert.Equal(10, lines.Length);
        (code, _, error) = await cli.RunWithDataAsync("log", "verify", "--archive", stopped, "--archive", forgedFile);
        Assert.Equal(1, code);
        Assert.Contains("archives do not go on from each other: forged.jsonl holds entries 11 to 20 as the ones before it do, but its entry 20 is not theirs", error, StringComparison.Ordinal);
        (code, _, error) = await cli.RunWithDataAsync("log", "verify", "--archive", removedTen, "--archive", forgedFile);
        Assert.Equal(1, code);
        Assert.Contains("the store's log does not go on from the last archive given", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_command_stopped_by_ctrl_c_says_so_in_a_line_and_exits_130()
    {
        await cli.StartStoreAsync();
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await OpenDccCli.RunAsync(["log", "show", "--data", cli.DataDirectory], output, error, cli.Clock, new CancellationToken(canceled: true));

        Assert.Equal(130, code);
        Assert.Equal("opendcc: stopped (Ctrl-C or SIGTERM) before it finished", error.ToString().Trim());
    }

    [Fact]
    public async Task Log_archive_moves_the_oldest_entries_to_a_checked_file_and_the_log_held_still_verifies_from_it()
    {
        await LogRequestsASecondApartAsync(30);
        var first = Path.Combine(cli.DataDirectory, "archive-1.jsonl");
        var second = Path.Combine(cli.DataDirectory, "archive-2.jsonl");

        var (code, output, error) = await cli.RunWithDataAsync("log", "archive", "--through", "10", "--out", first);
        Assert.True(code == 0, error);
        Assert.Contains("archived entries 1 to 10 (10 entries, logged 2026-11-28T09:00:00.000Z to 2026-11-28T09:00:09.000Z)", output, StringComparison.Ordinal);
        Assert.Equal("opendcc: archive: --before and --through: give one of them", (await cli.RunWithDataAsync("log", "archive", "--through", "15", "--before", "2026-11-28", "--out", second)).Error.Trim());
        // Entry 20 was logged at 09:00:19 UTC: --before (here with an offset) takes 11 to 19.
        (code, output, error) = await cli.RunWithDataAsync("log", "archive", "--before", "2026-11-28T10:00:19+01:00", "--out", second);
        Assert.True(code == 0, error);
        Assert.Contains("archived entries 11 to 19", output, StringComparison.Ordinal);

        (code, output, _) = await cli.RunWithDataAsync("log", "verify");
        Assert.Equal(0, code);
        Assert.Contains("message log intact: 11 entries", output, StringComparison.Ordinal);
        Assert.Contains("entries 1 to 19 archived", output, StringComparison.Ordinal);
        (_, output, _) = await cli.RunWithDataAsync("log", "show", "--from", "1", "--last", "2");
        Assert.Contains("request-20 ", output, StringComparison.Ordinal);
        Assert.Contains("entries 20 to 21 of 30 (entries 1 to 19 are archived)", output, StringComparison.Ordinal);
        Assert.Equal("opendcc: --within: only with --request-id (how many entries to look through for it); without one, --from and --last say which entries to show", (await cli.RunWithDataAsync("log", "show", "--within", "5")).Error.Trim());
        Assert.Equal("opendcc: --seq: entry 5 was archived (log archive); the log held starts at entry 20", (await cli.RunWithDataAsync("log", "payload", "--seq", "5")).Error.Trim());
        // The archives and the store, as one chain: the first archive alone leaves entries 11 to 19 in no file given.
        (code, output, error) = await cli.RunWithDataAsync("log", "verify", "--archive", first);
        Assert.Equal(1, code);
        Assert.Contains("archive intact: entries 1 to 10 (10 entries), from the start of the log", output, StringComparison.Ordinal);
        Assert.Contains("entries 11 to 19 are in no archive given (give the later archives after it, in order)", error, StringComparison.Ordinal);
        (code, output, _) = await cli.RunWithDataAsync("log", "verify", "--archive", first, "--archive", second);
        Assert.Equal(0, code);
        Assert.Contains("archive intact: entries 11 to 19 (9 entries), going on from the archive before it", output, StringComparison.Ordinal);
        Assert.Contains("the store's log goes on from the last archive given (entry 19)", output, StringComparison.Ordinal);
        (code, output, _) = await cli.RunWithDataAsync("log", "verify", "--archive", second);
        Assert.Equal(0, code);
        Assert.Contains("archive intact: entries 11 to 19 (9 entries), from entry 10", output, StringComparison.Ordinal);
        (code, _, error) = await cli.RunWithDataAsync("log", "verify", "--archive", second, "--archive", first);
        Assert.Equal(1, code);
        Assert.Contains("archives do not go on from each other: archive-1.jsonl starts at entry 1, not linked to entry 19", error, StringComparison.Ordinal);
        // The store's own entries are checked after the archives: one altered there fails the check of the whole chain.
        await using (var raw = new SqliteConnection($"Data Source={Path.Combine(cli.DataDirectory, OpenDccStore.SqliteFileName)}"))
        {
            await raw.OpenAsync();
            await using var tamper = raw.CreateCommand();
            tamper.CommandText = "UPDATE message_log SET outcome = 'I0' WHERE sequence = 25";
            Assert.Equal(1, await tamper.ExecuteNonQueryAsync());
        }
        (code, output, error) = await cli.RunWithDataAsync("log", "verify", "--archive", first, "--archive", second);
        Assert.Equal(1, code);
        Assert.Contains("the store's log goes on from the last archive given (entry 19)", output, StringComparison.Ordinal);
        Assert.StartsWith("message log broken at entry 25: its content does not match its hash", error, StringComparison.Ordinal);
        // An entry lost from the end of an archive is found out: no file holds it any more.
        var truncated = Path.Combine(cli.DataDirectory, "truncated.jsonl");
        await File.WriteAllLinesAsync(truncated, (await File.ReadAllLinesAsync(first))[..^1]);
        (code, _, error) = await cli.RunWithDataAsync("log", "verify", "--archive", truncated, "--archive", second);
        Assert.Equal(1, code);
        Assert.Contains("archive-2.jsonl starts at entry 11, the one before it ends at entry 9: entries 10 to 10 are in no archive given", error, StringComparison.Ordinal);

        // A changed archive is found out.
        await File.WriteAllTextAsync(first, (await File.ReadAllTextAsync(first)).Replace("request-4\"", "request-9\"", StringComparison.Ordinal));
        (code, _, error) = await cli.RunWithDataAsync("log", "verify", "--archive", first);
        Assert.Equal(1, code);
        Assert.StartsWith("archive broken at entry 4: its content does not match its hash", error, StringComparison.Ordinal);
        // So is one made up whole, its hashes recomputed, that claims to start the log but does not link to its start.
        var forged = MessageLogChain.Extend(0, new byte[32].Select(_ => (byte)7).ToArray(), [new MessageLogRecord(cli.Clock.GetCurrentInstant(), MessageDirection.Inbound, null, "x", "I99", new byte[] { 1 })]);
        var forgedFile = Path.Combine(cli.DataDirectory, "forged.jsonl");
        await File.WriteAllLinesAsync(forgedFile, forged.Select(MessageLogArchive.ToLine));
        (code, _, error) = await cli.RunWithDataAsync("log", "verify", "--archive", forgedFile);
        Assert.Equal(1, code);
        Assert.StartsWith("archive broken at entry 1: its link to the previous entry does not match", error, StringComparison.Ordinal);

        Assert.Contains("an archive is never overwritten", (await cli.RunWithDataAsync("log", "archive", "--through", "25", "--out", first)).Error, StringComparison.Ordinal);
        Assert.Contains("--through: 30 is not from 20 to 29", (await cli.RunWithDataAsync("log", "archive", "--through", "30", "--out", Path.Combine(cli.DataDirectory, "x"))).Error, StringComparison.Ordinal);
        Assert.Contains("give --before TIME or --through SEQ", (await cli.RunWithDataAsync("log", "archive", "--out", Path.Combine(cli.DataDirectory, "x"))).Error, StringComparison.Ordinal);
        Assert.StartsWith("opendcc: --before: 'yesterday' is not a time in ISO 8601: 2026-11-01T00:00:00Z, 2026-11-01T00:00:00+01:00, or a date, 2026-11-01 (its start in UTC)", (await cli.RunWithDataAsync("log", "archive", "--before", "yesterday", "--out", Path.Combine(cli.DataDirectory, "x"))).Error, StringComparison.Ordinal);
        // A time in the last year whose offset puts it past 9999 in UTC is named, not an OverflowException's stack trace.
        (code, _, error) = await cli.RunWithDataAsync("log", "archive", "--before", "9999-12-31T23:59:59-01:00", "--out", Path.Combine(cli.DataDirectory, "x"));
        Assert.Equal((1, "opendcc: --before: '9999-12-31T23:59:59-01:00' is outside the times OpenDcc holds (years -9998 to 9999 in UTC)\n"), (code, error));
        Assert.False(File.Exists(Path.Combine(cli.DataDirectory, "x")));
    }

    /// <summary>Requests <c>request-1</c> to <c>request-N</c> accepted (I99) a second apart, from 09:00:00 UTC.</summary>
    [Fact]
    public async Task Log_verify_fails_naming_the_checkpoint_whose_entry_was_rewritten_with_its_chain_recomputed()
    {
        await LogRequestsASecondApartAsync(20);
        // As the hub signs its head: here at entry 15.
        await SignCheckpointsAsync(15);
        var (code, output, error) = await cli.RunWithDataAsync("log", "verify");
        Assert.True(code == 0, error);
        Assert.Contains("message log intact: 20 entries", output, StringComparison.Ordinal);
        Assert.Contains(
            "checkpoints: 1 signed checkpoint verified; the newest at entry 15, signed 2026-11-28T09:00:20.000Z, 5 entries after it covered by the chain alone, " +
            "logged over 4 seconds (2026-11-28T09:00:15.000Z to 2026-11-28T09:00:19.000Z)", output, StringComparison.Ordinal);

        // Entries 11 to 20 rewritten with write access to the database alone, every hash after them recomputed and the head moved.
        await using (var raw = new SqliteConnection($"Data Source={Path.Combine(cli.DataDirectory, OpenDccStore.SqliteFileName)}"))
        {
            await raw.OpenAsync();
            await using var read = raw.CreateCommand();
            read.CommandText = "SELECT hash FROM message_log WHERE sequence = 10";
            var forged = MessageLogChain.Extend(10, (byte[])(await read.ExecuteScalarAsync())!, [.. Enumerable.Range(11, 10).Select(i => new MessageLogRecord(
                cli.Clock.GetCurrentInstant(), MessageDirection.Inbound, null, $"forged-{i}", "I99", new byte[] { 1 }))]);
            await using var tamper = raw.CreateCommand();
            tamper.CommandText = "DELETE FROM message_log WHERE sequence > 10";
            await tamper.ExecuteNonQueryAsync();
            foreach (var entry in forged)
            {
                await using var insert = raw.CreateCommand();
                insert.CommandText = "INSERT INTO message_log (sequence, at, direction, user_id, correlation, outcome, payload, previous_hash, hash) VALUES ($s, $at, 1, NULL, $c, 'I99', $p, $ph, $h)";
                insert.Parameters.AddWithValue("$s", entry.Sequence);
                insert.Parameters.AddWithValue("$at", entry.Record.At.ToUnixTimeTicks());
                insert.Parameters.AddWithValue("$c", entry.Record.Correlation);
                insert.Parameters.AddWithValue("$p", entry.Record.Payload.ToArray());
                insert.Parameters.AddWithValue("$ph", entry.PreviousHash);
                insert.Parameters.AddWithValue("$h", entry.Hash);
                await insert.ExecuteNonQueryAsync();
            }
            await using var head = raw.CreateCommand();
            head.CommandText = "UPDATE message_log_head SET hash = $h WHERE id = 1";
            head.Parameters.AddWithValue("$h", forged[^1].Hash);
            Assert.Equal(1, await head.ExecuteNonQueryAsync());
        }
        (code, output, error) = await cli.RunWithDataAsync("log", "verify");

        Assert.Equal(1, code);
        Assert.DoesNotContain("message log intact", output, StringComparison.Ordinal);
        Assert.StartsWith("message log checkpoint at entry 15 fails: the entry's hash is ", error, StringComparison.Ordinal);
        Assert.Contains("(the entry, or one before it, was rewritten and the chain recomputed)", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Log_verify_fails_naming_the_checkpoint_whose_entry_was_cut_from_the_end_with_the_head_moved_back()
    {
        await LogRequestsASecondApartAsync(20);
        await SignCheckpointsAsync(20);
        // Entries 19 and 20 removed and the head moved back to entry 18: the chain alone checks.
        await using (var raw = new SqliteConnection($"Data Source={Path.Combine(cli.DataDirectory, OpenDccStore.SqliteFileName)}"))
        {
            await raw.OpenAsync();
            await using var cut = raw.CreateCommand();
            cut.CommandText = "DELETE FROM message_log WHERE sequence > 18; UPDATE message_log_head SET sequence = 18, hash = (SELECT hash FROM message_log WHERE sequence = 18) WHERE id = 1";
            await cut.ExecuteNonQueryAsync();
        }

        var (code, _, error) = await cli.RunWithDataAsync("log", "verify");

        Assert.Equal(1, code);
        Assert.Equal("message log checkpoint at entry 20 fails: the log ends at entry 18, before the entry it signed (entries removed from the end of the log)", error.Trim());
    }

    [Fact]
    public async Task Log_verify_fails_naming_the_deleted_checkpoint_that_a_later_one_follows_when_the_entries_under_it_were_rewritten_before_that_was_signed()
    {
        await LogRequestsASecondApartAsync(20);
        await SignCheckpointsAsync(5, 10);
        // Entry 8 rewritten, its chain recomputed, and the checkpoint at entry 10, which would show it, deleted ...
        await RewriteWithTheChainRecomputedAsync(8);
        await DeleteCheckpointsAsync(10);
        // ... then the hub, still running, signs its head: the rewritten hash, following the checkpoint it made last.
        await using (var store = await OpenDccStore.OpenSqliteAsync(cli.DataDirectory, cli.Clock))
        {
            await SignCheckpointAsync(store, 20, previous: 10);
        }

        var (code, output, error) = await cli.RunWithDataAsync("log", "verify");

        Assert.Equal(1, code);
        Assert.DoesNotContain("message log intact", output, StringComparison.Ordinal);
        Assert.Equal(
            "message log checkpoint at entry 20 fails: it follows the checkpoint at entry 10, which the store does not hold " +
            "(deleted: entries 6 to 20 may have been rewritten, the chain recomputed, before it was signed)", error.Trim());
    }

    [Fact]
    public async Task Log_verify_fails_naming_the_checkpoint_the_keys_directory_records_once_the_newest_checkpoints_are_deleted()
    {
        await LogRequestsASecondApartAsync(20);
        await SignCheckpointsAsync(5, 10, 15);
        var (code, output, error) = await cli.RunWithDataAsync("log", "verify");
        Assert.True(code == 0, error);
        var record = Path.Combine(cli.DataDirectory, "keys", "message-log-checkpoint");
        Assert.Contains($"the keys directory records a checkpoint at entry 15, signed 2026-11-28T09:00:20.000Z ({record}), held by the store", output, StringComparison.Ordinal);

        // The newest two deleted with write access to the database alone: what is left checks, the chain and the checkpoints.
        await DeleteCheckpointsAsync(10, 15);
        (code, output, error) = await cli.RunWithDataAsync("log", "verify");

        Assert.Equal(1, code);
        Assert.DoesNotContain("message log intact", output, StringComparison.Ordinal);
        Assert.Equal(
            $"the keys directory records a checkpoint at entry 15, signed 2026-11-28T09:00:20.000Z ({record}), which the store does not hold: " +
            "checkpoints deleted from the end of the log, or the store restored from an older backup (the store's newest is at entry 5, signed 2026-11-28T09:00:20.000Z)", error.Trim());

        // Every checkpoint deleted: the store holds none.
        await DeleteCheckpointsAsync(5);
        (code, _, error) = await cli.RunWithDataAsync("log", "verify");
        Assert.Equal(1, code);
        Assert.EndsWith("which the store does not hold: checkpoints deleted from the end of the log, or the store restored from an older backup (the store holds no checkpoint)", error.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Log_verify_refuses_a_keys_directory_record_that_holds_no_checkpoint_naming_it()
    {
        await LogRequestsASecondApartAsync(3);
        var (code, output, error) = await cli.RunWithDataAsync("log", "verify");
        Assert.True(code == 0, error);
        var record = Path.Combine(cli.DataDirectory, "keys", "message-log-checkpoint");
        Assert.Contains($"no checkpoint recorded in the keys directory ({record})", output, StringComparison.Ordinal);

        Directory.CreateDirectory(Path.GetDirectoryName(record)!);
        await File.WriteAllTextAsync(record, "15 not-a-hash 2026-11-28T09:00:20Z\n");
        (code, _, error) = await cli.RunWithDataAsync("log", "verify");
        Assert.Equal(1, code);
        Assert.Contains($"{record} holds no message log checkpoint record (its sequence, hash and time)", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Log_verify_passes_a_checkpoint_following_one_in_the_store_not_just_before_it_and_fails_naming_that_one_deleted()
    {
        await LogRequestsASecondApartAsync(20);
        await SignCheckpointsAsync(5, 10);
        // A hub whose add of entry 10's checkpoint was made but whose answer was lost (the store away) follows entry 5's next.
        await using (var store = await OpenDccStore.OpenSqliteAsync(cli.DataDirectory, cli.Clock))
        {
            await SignCheckpointAsync(store, 15, previous: 5);
        }
        var (code, output, error) = await cli.RunWithDataAsync("log", "verify");
        Assert.True(code == 0, error);
        Assert.Contains("checkpoints: 3 signed checkpoints verified; the newest at entry 15", output, StringComparison.Ordinal);

        await DeleteCheckpointsAsync(5);
        (code, _, error) = await cli.RunWithDataAsync("log", "verify");

        Assert.Equal(1, code);
        Assert.Equal(
            "message log checkpoint at entry 10 fails: it follows the checkpoint at entry 5, which the store does not hold " +
            "(deleted: entries 1 to 10 may have been rewritten, the chain recomputed, before it was signed)", error.Trim());
    }

    [Fact]
    public async Task Checkpoints_signed_before_they_named_the_one_before_still_verify_and_the_first_after_them_follows_the_newest()
    {
        await LogRequestsASecondApartAsync(20);
        await using (var store = await OpenDccStore.OpenSqliteAsync(cli.DataDirectory, cli.Clock))
        {
            using var identity = DspKeys().LoadDspIdentity();
            foreach (var sequence in new long[] { 5, 10 })
            {
                var entry = await store.MessageLog.ReadAsync(sequence, sequence).SingleAsync();
                await store.MessageLogCheckpoints.AddCheckpointAsync(SignV1(sequence, entry.Hash, cli.Clock.GetCurrentInstant(), identity));
            }
        }
        // Then a hub that names the one before, started on that store.
        await SignCheckpointsAsync(15);

        var (code, output, error) = await cli.RunWithDataAsync("log", "verify");
        Assert.True(code == 0, error);
        Assert.Contains("checkpoints: 3 signed checkpoints verified; the newest at entry 15", output, StringComparison.Ordinal);
        await using (var store = await OpenDccStore.OpenSqliteAsync(cli.DataDirectory, cli.Clock))
        {
            Assert.Equal([null, null, 10], await store.MessageLogCheckpoints.ReadCheckpointsAsync().Select(c => c.Previous).ToListAsync());
        }

        await DeleteCheckpointsAsync(10);
        (code, _, error) = await cli.RunWithDataAsync("log", "verify");
        Assert.Equal(1, code);
        Assert.StartsWith("message log checkpoint at entry 15 fails: it follows the checkpoint at entry 10, which the store does not hold", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Log_verify_says_over_what_time_the_entries_after_the_newest_checkpoint_were_logged_and_passes()
    {
        await LogRequestsASecondApartAsync(6);
        await SignCheckpointsAsync(5);
        var (code, output, error) = await cli.RunWithDataAsync("log", "verify");
        Assert.True(code == 0, error);
        Assert.Contains("; the newest at entry 5, signed 2026-11-28T09:00:06.000Z, 1 entry after it covered by the chain alone, logged at 2026-11-28T09:00:05.000Z", output, StringComparison.Ordinal);

        // Three days on, with no checkpoint since (a hub killed, or the checkpoints since deleted: the chain of checkpoints cannot show the newest deleted).
        cli.Clock.Advance(Duration.FromDays(3));
        await LogRequestsASecondApartAsync(2);
        (code, output, error) = await cli.RunWithDataAsync("log", "verify");

        Assert.True(code == 0, error);
        Assert.Contains(
            "checkpoints: 1 signed checkpoint verified; the newest at entry 5, signed 2026-11-28T09:00:06.000Z, 3 entries after it covered by the chain alone, " +
            "logged over 3 days (2026-11-28T09:00:05.000Z to 2026-12-01T09:00:07.000Z)", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Log_verify_skips_a_checkpoint_of_an_entry_archived_in_no_archive_given_and_checks_it_in_one_given()
    {
        await LogRequestsASecondApartAsync(20);
        // Entry 15's checkpoint follows entry 5's, which stays in the store when its entry is archived.
        await SignCheckpointsAsync(5, 15);
        var archive = Path.Combine(cli.DataDirectory, "archive.jsonl");
        Assert.Equal(0, (await cli.RunWithDataAsync("log", "archive", "--through", "10", "--out", archive)).ExitCode);

        var (code, output, error) = await cli.RunWithDataAsync("log", "verify");
        Assert.True(code == 0, error);
        Assert.Contains("checkpoints: 1 signed checkpoint verified, 1 of entries archived in no archive given skipped; the newest at entry 15, signed 2026-11-28T09:00:20.000Z, 5 entries after it covered by the chain alone", output, StringComparison.Ordinal);
        (code, output, error) = await cli.RunWithDataAsync("log", "verify", "--archive", archive);
        Assert.True(code == 0, error);
        Assert.Contains("checkpoints: 2 signed checkpoints verified; the newest at entry 15", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Log_verify_of_a_log_without_checkpoints_says_every_entry_is_covered_by_the_chain_alone()
    {
        await LogRequestsASecondApartAsync(3);

        var (code, output, error) = await cli.RunWithDataAsync("log", "verify");

        Assert.True(code == 0, error);
        Assert.Contains("message log intact: 3 entries", output, StringComparison.Ordinal);
        Assert.Contains("no signed checkpoint yet: 3 entries covered by the chain alone, logged over 2 seconds (2026-11-28T09:00:00.000Z to 2026-11-28T09:00:02.000Z)", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Log_verify_counts_once_a_checkpoint_of_an_entry_held_both_by_an_archive_and_by_the_store()
    {
        await LogRequestsASecondApartAsync(30);
        await SignCheckpointsAsync(5, 15, 25);
        // What 'log archive --through 20' leaves when killed after removing entries 1 to 10 of the 20 it wrote:
        // entry 15, signed, is in the file and still in the store.
        var (_, stopped) = await ArchiveStoppedAfterRemovingTenOfTwentyAsync();

        var (code, output, error) = await cli.RunWithDataAsync("log", "verify", "--archive", stopped);

        Assert.True(code == 0, error);
        Assert.Contains("the store's log goes on from the archives given, which hold its entries 11 to 20 as well (an archive stopped before it had removed them)", output, StringComparison.Ordinal);
        Assert.Contains("message log intact: 20 entries", output, StringComparison.Ordinal);
        Assert.Contains("checkpoints: 3 signed checkpoints verified; the newest at entry 25, signed 2026-11-28T09:00:30.000Z, 5 entries after it covered by the chain alone", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Log_verify_counts_once_a_checkpoint_of_an_entry_held_by_two_archives_given_in_order()
    {
        await LogRequestsASecondApartAsync(30);
        await SignCheckpointsAsync(5, 15, 25);
        // An archive of 1 to 20 killed after removing 1 to 10, then made again: both files hold entry 15, signed.
        var (_, stopped) = await ArchiveStoppedAfterRemovingTenOfTwentyAsync();
        var again = Path.Combine(cli.DataDirectory, "again.jsonl");
        Assert.Equal(0, (await cli.RunWithDataAsync("log", "archive", "--through", "20", "--out", again)).ExitCode);

        var (code, output, error) = await cli.RunWithDataAsync("log", "verify", "--archive", stopped, "--archive", again);

        Assert.True(code == 0, error);
        Assert.Contains("archive intact: entries 11 to 20 (10 entries), going on from the archives before it, which hold its entries 11 to 20 as well", output, StringComparison.Ordinal);
        Assert.Contains("the store's log goes on from the last archive given (entry 20)", output, StringComparison.Ordinal);
        Assert.Contains("checkpoints: 3 signed checkpoints verified; the newest at entry 25, signed 2026-11-28T09:00:30.000Z, 5 entries after it covered by the chain alone", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Log_verify_fails_naming_the_checkpoint_whose_archived_entry_was_rewritten_with_the_chain_recomputed_through_the_store()
    {
        await LogRequestsASecondApartAsync(20);
        await SignCheckpointsAsync(5, 15);
        var archive = Path.Combine(cli.DataDirectory, "archive.jsonl");
        Assert.Equal(0, (await cli.RunWithDataAsync("log", "archive", "--through", "10", "--out", archive)).ExitCode);
        var (code, output, error) = await cli.RunWithDataAsync("log", "verify", "--archive", archive);
        Assert.True(code == 0, error);
        Assert.Contains("checkpoints: 2 signed checkpoints verified; the newest at entry 15", output, StringComparison.Ordinal);

        // Entry 5's outcome rewritten in the archive, every hash after it recomputed, in the file and in the store
        // (its entries 11 to 20, the hash it is linked to, and the head): the chain alone checks.
        var archived = await MessageLogArchive.ReadAsync(new StringReader(await File.ReadAllTextAsync(archive))).ToListAsync();
        var rewritten = MessageLogChain.Extend(4, archived[3].Hash, [.. archived.Skip(4).Select((e, i) => i == 0 ? e.Record with { Outcome = "E42 AuthenticationFailure" } : e.Record)]);
        var forgedFile = Path.Combine(cli.DataDirectory, "forged.jsonl");
        await File.WriteAllLinesAsync(forgedFile, archived.Take(4).Concat(rewritten).Select(MessageLogArchive.ToLine));
        await using (var store = await OpenDccStore.OpenSqliteAsync(cli.DataDirectory, cli.Clock))
        {
            var held = await store.MessageLog.ReadAsync(11).ToListAsync();
            var relinked = MessageLogChain.Extend(10, rewritten[^1].Hash, [.. held.Select(e => e.Record)]);
            await using var raw = new SqliteConnection($"Data Source={Path.Combine(cli.DataDirectory, OpenDccStore.SqliteFileName)}");
            await raw.OpenAsync();
            foreach (var entry in relinked)
            {
                await using var relink = raw.CreateCommand();
                relink.CommandText = "UPDATE message_log SET previous_hash = $ph, hash = $h WHERE sequence = $s";
                relink.Parameters.AddWithValue("$s", entry.Sequence);
                relink.Parameters.AddWithValue("$ph", entry.PreviousHash);
                relink.Parameters.AddWithValue("$h", entry.Hash);
                Assert.Equal(1, await relink.ExecuteNonQueryAsync());
            }
            await using var ends = raw.CreateCommand();
            ends.CommandText = "UPDATE message_log_base SET hash = $b WHERE id = 1; UPDATE message_log_head SET hash = $h WHERE id = 1";
            ends.Parameters.AddWithValue("$b", rewritten[^1].Hash);
            ends.Parameters.AddWithValue("$h", relinked[^1].Hash);
            Assert.Equal(2, await ends.ExecuteNonQueryAsync());
        }

        (code, output, error) = await cli.RunWithDataAsync("log", "verify", "--archive", forgedFile);

        Assert.Equal(1, code);
        Assert.Contains("archive intact: entries 1 to 10 (10 entries), from the start of the log", output, StringComparison.Ordinal);
        Assert.Contains("the store's log goes on from the last archive given (entry 10)", output, StringComparison.Ordinal);
        Assert.DoesNotContain("message log intact", output, StringComparison.Ordinal);
        Assert.StartsWith($"message log checkpoint at entry 5 fails: the entry's hash is {Convert.ToHexString(rewritten[0].Hash)}, the hash signed {Convert.ToHexString(archived[4].Hash)}", error, StringComparison.Ordinal);
        Assert.Contains("(the entry, or one before it, was rewritten and the chain recomputed)", error, StringComparison.Ordinal);
    }

    /// <summary>
    /// Signs checkpoints at these entries, held by the store, as a hub started again signs its head: each following the
    /// newest the store holds, under the data directory's DSP key (made at the first).
    /// </summary>
    private async Task SignCheckpointsAsync(params long[] sequences)
    {
        await using var store = await OpenDccStore.OpenSqliteAsync(cli.DataDirectory, cli.Clock);
        foreach (var sequence in sequences)
        {
            var previous = (await store.MessageLogCheckpoints.ReadNewestCheckpointAsync())?.Sequence ?? 0;
            await SignCheckpointAsync(store, sequence, previous);
        }
    }

    /// <summary>
    /// Signs the store's entry <paramref name="sequence"/> as it is now, following the checkpoint at <paramref name="previous"/>,
    /// and records it in the keys directory as the newest, as a hub does.
    /// </summary>
    private async Task SignCheckpointAsync(OpenDccStore store, long sequence, long previous)
    {
        var entry = await store.MessageLog.ReadAsync(sequence, sequence).SingleAsync();
        using var identity = DspKeys().LoadDspIdentity();
        using var key = XmlSignatureKey.ForSigning(identity);
        var checkpoint = MessageLogCheckpoint.Sign(sequence, entry.Hash, cli.Clock.GetCurrentInstant(), previous, key);
        await store.MessageLogCheckpoints.AddCheckpointAsync(checkpoint);
        DspKeys().RecordCheckpoint(checkpoint);
    }

    /// <summary>
    /// A checkpoint as hubs signed them before checkpoints named the one before (v1), made here byte for byte: 'OpenDcc
    /// message log checkpoint v1', the sequence, the hash's length and the hash, and the time in Unix ticks, big-endian.
    /// </summary>
    private static MessageLogCheckpoint SignV1(long sequence, byte[] hash, Instant at, X509Certificate2 identity)
    {
        var fields = new byte[8 + 4 + hash.Length + 8];
        BinaryPrimitives.WriteInt64BigEndian(fields, sequence);
        BinaryPrimitives.WriteInt32BigEndian(fields.AsSpan(8), hash.Length);
        hash.CopyTo(fields, 12);
        BinaryPrimitives.WriteInt64BigEndian(fields.AsSpan(12 + hash.Length), at.ToUnixTimeTicks());
        using var key = identity.GetECDsaPrivateKey()!;
        var signature = key.SignHash(SHA256.HashData([.. "OpenDcc message log checkpoint v1"u8, .. fields]), DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return new MessageLogCheckpoint(sequence, hash, at, signature, identity.RawData);
    }

    /// <summary>The data directory's keys, a local CA and the DSP identity it issued made at the first call.</summary>
    private FileKeyStore DspKeys()
    {
        var keys = new FileKeyStore(Path.Combine(cli.DataDirectory, "keys"));
        if (!dspKeysMade)
        {
            keys.Initialise(Eui64.Parse("90-B3-D5-1F-30-00-00-02"), cli.Clock);
            dspKeysMade = true;
        }
        return keys;
    }

    private bool dspKeysMade;

    /// <summary>
    /// Entry <paramref name="sequence"/>'s outcome rewritten in the store with raw SQL, every hash from it on recomputed
    /// and the head moved: what whoever can write the database can do, the chain checking again.
    /// </summary>
    private async Task RewriteWithTheChainRecomputedAsync(long sequence)
    {
        await using (var store = await OpenDccStore.OpenSqliteAsync(cli.DataDirectory, cli.Clock))
        {
            var before = await store.MessageLog.ReadAsync(sequence - 1, sequence - 1).SingleAsync();
            var held = await store.MessageLog.ReadAsync(sequence).ToListAsync();
            var rewritten = MessageLogChain.Extend(sequence - 1, before.Hash, [.. held.Select((e, i) => i == 0 ? e.Record with { Outcome = "E42 AuthenticationFailure" } : e.Record)]);
            await using var raw = new SqliteConnection($"Data Source={Path.Combine(cli.DataDirectory, OpenDccStore.SqliteFileName)}");
            await raw.OpenAsync();
            foreach (var entry in rewritten)
            {
                await using var rewrite = raw.CreateCommand();
                rewrite.CommandText = "UPDATE message_log SET outcome = $o, previous_hash = $ph, hash = $h WHERE sequence = $s";
                rewrite.Parameters.AddWithValue("$s", entry.Sequence);
                rewrite.Parameters.AddWithValue("$o", entry.Record.Outcome);
                rewrite.Parameters.AddWithValue("$ph", entry.PreviousHash);
                rewrite.Parameters.AddWithValue("$h", entry.Hash);
                Assert.Equal(1, await rewrite.ExecuteNonQueryAsync());
            }
            await using var head = raw.CreateCommand();
            head.CommandText = "UPDATE message_log_head SET hash = $h WHERE id = 1";
            head.Parameters.AddWithValue("$h", rewritten[^1].Hash);
            Assert.Equal(1, await head.ExecuteNonQueryAsync());
        }
    }

    /// <summary>Deletes the checkpoints at these entries from the store with raw SQL.</summary>
    private async Task DeleteCheckpointsAsync(params long[] sequences)
    {
        await using var raw = new SqliteConnection($"Data Source={Path.Combine(cli.DataDirectory, OpenDccStore.SqliteFileName)}");
        await raw.OpenAsync();
        foreach (var sequence in sequences)
        {
            await using var delete = raw.CreateCommand();
            delete.CommandText = "DELETE FROM message_log_checkpoint WHERE sequence = $s";
            delete.Parameters.AddWithValue("$s", sequence);
            Assert.Equal(1, await delete.ExecuteNonQueryAsync());
        }
    }

    /// <summary>
    /// What 'log archive --through 20' leaves when killed after removing entries 1 to 10 of the 20 it wrote: the store
    /// holds 11 on, and the file (returned as Stopped) 1 to 20; RemovedTen is an archive of 1 to 10 alone.
    /// </summary>
    private async Task<(string RemovedTen, string Stopped)> ArchiveStoppedAfterRemovingTenOfTwentyAsync()
    {
        var removedTen = Path.Combine(cli.DataDirectory, "first-ten.jsonl");
        Assert.Equal(0, (await cli.RunWithDataAsync("log", "archive", "--through", "10", "--out", removedTen)).ExitCode);
        var stopped = Path.Combine(cli.DataDirectory, "stopped.jsonl");
        await using (var store = await OpenDccStore.OpenSqliteAsync(cli.DataDirectory, cli.Clock))
        {
            var stillHeld = await store.MessageLog.ReadAsync(11).Where(e => e.Sequence <= 20).Select(MessageLogArchive.ToLine).ToListAsync();
            await File.WriteAllLinesAsync(stopped, [.. await File.ReadAllLinesAsync(removedTen), .. stillHeld]);
        }
        return (removedTen, stopped);
    }

    private async Task LogRequestsASecondApartAsync(int count)
    {
        await using var store = await OpenDccStore.OpenSqliteAsync(cli.DataDirectory, cli.Clock);
        for (var i = 1; i <= count; i++)
        {
            await store.MessageLog.AppendAsync([new MessageLogRecord(cli.Clock.GetCurrentInstant(), MessageDirection.Inbound, Eui64.Parse("90-B3-D5-1F-30-01-00-00"), $"request-{i}", "I99", Encoding.UTF8.GetBytes($"<sr:Request>{i} é</sr:Request>"))]);
            cli.Clock.Advance(Duration.FromSeconds(1));
        }
    }

    public void Dispose() => cli.Dispose();
}

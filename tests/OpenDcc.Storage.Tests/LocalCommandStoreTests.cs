using NodaTime;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Security;

namespace OpenDcc.Storage.Tests;

/// <summary>The commands given for local delivery (CV 2, 6) and the return of their answers (8.13), on every engine.</summary>
public abstract class LocalCommandStoreTests(IStoreEngine engine) : StoreTests(engine)
{
    private static readonly RequestId Given = RequestId.Parse("90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:42");
    /// <summary>An 8.13 returning the answer, and another.</summary>
    private static readonly RequestId By = RequestId.Parse("90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:60"), OtherBy = RequestId.Parse("90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:61");
    private static readonly Instant Monday = Instant.FromUtc(2026, 11, 30, 9, 0);

    private static LocalCommand Command(byte first, byte[]? signedPreCommand = null) =>
        new(Given, "7.2", "<sr:SignedPreCommand xmlns:sr=\"http://www.dccinterface.co.uk/ServiceUserGateway\"/>", signedPreCommand, [first, 2, 3], Monday);

    [Fact]
    public async Task A_kept_command_reads_back_with_every_field_and_none_is_found_under_another_request_id()
    {
        var kept = Command(1, signedPreCommand: [9, 8, 7]);
        await Store.LocalCommands.RecordAsync(kept);

        var found = await Store.LocalCommands.FindAsync(Given);

        Assert.NotNull(found);
        Assert.Equal((kept.RequestId, kept.ServiceReferenceVariant, kept.Body, kept.IssuedAt, (Instant?)null), (found.RequestId, found.ServiceReferenceVariant, found.Body, found.IssuedAt, found.ReturnedAt));
        Assert.Equal(kept.SignedPreCommand, found.SignedPreCommand);
        Assert.Equal(kept.Command, found.Command);
        Assert.Null(await Store.LocalCommands.FindAsync(RequestId.Parse("90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:43")));
        await Store.LocalCommands.RecordAsync(Command(1) with { RequestId = RequestId.Parse("90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:44") });
        Assert.Null((await Store.LocalCommands.FindAsync(RequestId.Parse("90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:44")))!.SignedPreCommand);
    }

    /// <summary>The 8.13 <paramref name="by"/> logged, as the gateway logs it: its mark on the answer to <paramref name="command"/> made final.</summary>
    private Task LogReturnAsync(RequestId command, RequestId by) =>
        Store.MessageLog.AppendAsync([new MessageLogRecord(Monday, MessageDirection.Inbound, by.Originator, by.ToString(), "I0", new byte[] { 1 }) { Returns = new LocalReturn(command, by) }]);

    [Fact]
    public async Task A_mark_whose_8_13_was_never_logged_holds_the_answer_for_a_while_then_another_8_13_may_take_it_and_a_logged_one_is_final()
    {
        await Store.LocalCommands.RecordAsync(Command(1));
        Assert.True(await Store.LocalCommands.MarkReturnedAsync(Given, By, Monday));

        // Held: another 8.13 within the while may not take it; the command is still waiting for a logged return.
        Assert.False(await Store.LocalCommands.MarkReturnedAsync(Given, OtherBy, Monday + LocalCommands.UnloggedReturnHeldFor - Duration.FromSeconds(1)));
        var held = (await Store.LocalCommands.FindAsync(Given))!;
        Assert.True(held.IsReturnedAt(Monday + Duration.FromMinutes(1)));
        Assert.False(held.IsReturnedAt(Monday + LocalCommands.UnloggedReturnHeldFor));
        Assert.Equal([Given], (await Store.LocalCommands.ListWaitingAsync(Monday, 10)).Select(c => c.RequestId));

        // Then the other 8.13 takes it, and its logging makes it final: none other may take it, nor give it back.
        Assert.True(await Store.LocalCommands.MarkReturnedAsync(Given, OtherBy, Monday + LocalCommands.UnloggedReturnHeldFor));
        await LogReturnAsync(Given, By);
        Assert.False((await Store.LocalCommands.FindAsync(Given))!.ReturnLogged);
        await LogReturnAsync(Given, OtherBy);
        var final = (await Store.LocalCommands.FindAsync(Given))!;
        Assert.Equal((OtherBy, true), (final.ReturnedBy, final.ReturnLogged));
        Assert.True(final.IsReturnedAt(Monday + Duration.FromDays(29)));
        Assert.False(await Store.LocalCommands.MarkReturnedAsync(Given, By, Monday + Duration.FromDays(1)));
        await Store.LocalCommands.UnmarkReturnedAsync(Given, OtherBy);
        Assert.Equal(OtherBy, (await Store.LocalCommands.FindAsync(Given))!.ReturnedBy);
        // The same 8.13 again (its log's commit reported failed, though made) keeps its mark, logged.
        Assert.True(await Store.LocalCommands.MarkReturnedAsync(Given, OtherBy, Monday + Duration.FromDays(1)));
        Assert.True((await Store.LocalCommands.FindAsync(Given))!.ReturnLogged);
        Assert.Empty(await Store.LocalCommands.ListWaitingAsync(Monday, 10));
        Assert.Equal(0, await Store.LocalCommands.CountWaitingAsync(Monday));
    }

    [Fact]
    public async Task An_answer_is_marked_returned_by_one_8_13_only_and_a_mark_taken_back_can_be_made_again()
    {
        await Store.LocalCommands.RecordAsync(Command(1));

        Assert.True(await Store.LocalCommands.MarkReturnedAsync(Given, By, Monday + Duration.FromHours(1)));
        Assert.False(await Store.LocalCommands.MarkReturnedAsync(Given, OtherBy, Monday + Duration.FromHours(1) + Duration.FromMinutes(1)));
        var marked = (await Store.LocalCommands.FindAsync(Given))!;
        Assert.Equal((Monday + Duration.FromHours(1), By), (marked.ReturnedAt, marked.ReturnedBy));
        // The same 8.13 (sent again, its reply never logged) marks it again.
        Assert.True(await Store.LocalCommands.MarkReturnedAsync(Given, By, Monday + Duration.FromHours(2)));
        Assert.Equal(Monday + Duration.FromHours(2), (await Store.LocalCommands.FindAsync(Given))!.ReturnedAt);

        // Another 8.13's give-back leaves the mark; its own takes it back.
        await Store.LocalCommands.UnmarkReturnedAsync(Given, OtherBy);
        Assert.Equal(By, (await Store.LocalCommands.FindAsync(Given))!.ReturnedBy);
        await Store.LocalCommands.UnmarkReturnedAsync(Given, By);
        var unmarked = (await Store.LocalCommands.FindAsync(Given))!;
        Assert.Equal(((Instant?)null, (RequestId?)null), (unmarked.ReturnedAt, unmarked.ReturnedBy));
        Assert.True(await Store.LocalCommands.MarkReturnedAsync(Given, OtherBy, Monday + Duration.FromHours(3)));
        Assert.False(await Store.LocalCommands.MarkReturnedAsync(RequestId.Parse("90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:43"), By, Monday));
    }

    [Fact]
    public async Task A_command_given_again_under_its_request_id_replaces_the_first_unless_its_answer_came_back()
    {
        await Store.LocalCommands.RecordAsync(Command(1));
        await Store.LocalCommands.RecordAsync(Command(5));
        Assert.Equal([5, 2, 3], (await Store.LocalCommands.FindAsync(Given))!.Command);

        await Store.LocalCommands.MarkReturnedAsync(Given, By, Monday);
        await Store.LocalCommands.RecordAsync(Command(6));
        Assert.Equal([5, 2, 3], (await Store.LocalCommands.FindAsync(Given))!.Command);
    }

    [Fact]
    public async Task Those_waiting_for_their_answer_are_listed_oldest_first_up_to_a_limit_and_counted()
    {
        RequestId Id(ulong counter) => new(Given.Originator, Given.Target, counter);
        await Store.LocalCommands.RecordAsync(Command(1) with { RequestId = Id(3), IssuedAt = Monday + Duration.FromMinutes(3) });
        await Store.LocalCommands.RecordAsync(Command(1) with { RequestId = Id(1), IssuedAt = Monday + Duration.FromMinutes(1) });
        await Store.LocalCommands.RecordAsync(Command(1) with { RequestId = Id(2), IssuedAt = Monday + Duration.FromMinutes(2) });
        await Store.LocalCommands.MarkReturnedAsync(Id(1), By, Monday + Duration.FromHours(1));
        await LogReturnAsync(Id(1), By);

        Assert.Equal([Id(2)], (await Store.LocalCommands.ListWaitingAsync(Monday, 1)).Select(c => c.RequestId));
        Assert.Equal([Id(2), Id(3)], (await Store.LocalCommands.ListWaitingAsync(Monday, 10)).Select(c => c.RequestId));
        Assert.Equal(2, await Store.LocalCommands.CountWaitingAsync(Monday));
        // Only those given since a time.
        Assert.Equal([Id(3)], (await Store.LocalCommands.ListWaitingAsync(Monday + Duration.FromMinutes(3), 10)).Select(c => c.RequestId));
        Assert.Equal(1, await Store.LocalCommands.CountWaitingAsync(Monday + Duration.FromMinutes(3)));
    }

    [Fact]
    public async Task A_command_forgotten_for_its_unlogged_request_goes_unless_its_answer_came_back()
    {
        var returned = RequestId.Parse("90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:41");
        await Store.LocalCommands.RecordAsync(Command(1));
        await Store.LocalCommands.RecordAsync(Command(1) with { RequestId = returned });
        await Store.LocalCommands.MarkReturnedAsync(returned, By, Monday);

        await Store.LocalCommands.ForgetAsync(Given);
        await Store.LocalCommands.ForgetAsync(returned);

        Assert.Null(await Store.LocalCommands.FindAsync(Given));
        Assert.NotNull(await Store.LocalCommands.FindAsync(returned));
    }

    [Fact]
    public async Task Commands_given_before_a_time_are_forgotten_returned_or_not_and_later_ones_kept()
    {
        var later = RequestId.Parse("90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:50");
        var returned = RequestId.Parse("90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:41");
        await Store.LocalCommands.RecordAsync(Command(1));
        await Store.LocalCommands.RecordAsync(Command(1) with { RequestId = returned });
        await Store.LocalCommands.MarkReturnedAsync(returned, By, Monday);
        await Store.LocalCommands.RecordAsync(Command(1) with { RequestId = later, IssuedAt = Monday + Duration.FromDays(1) });

        Assert.Equal(2, await Store.LocalCommands.ForgetIssuedBeforeAsync(Monday + Duration.FromHours(1)));

        Assert.Null(await Store.LocalCommands.FindAsync(Given));
        Assert.Null(await Store.LocalCommands.FindAsync(returned));
        Assert.NotNull(await Store.LocalCommands.FindAsync(later));
    }
}

public sealed class SqliteLocalCommandStoreTests() : LocalCommandStoreTests(new SqliteEngine());

public sealed class PostgresLocalCommandStoreTests() : LocalCommandStoreTests(new PostgresEngine());

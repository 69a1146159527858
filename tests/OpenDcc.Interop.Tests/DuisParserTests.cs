using OpenDcc.Interop.Tests.Tooling;

namespace OpenDcc.Interop.Tests;

[Collection(DccToolingCollection.Name)]
public sealed class DuisParserTests(SignedRtds rtds)
{
    [Fact]
    public async Task A_signed_request_parses_with_duis_parser()
    {
        var signed = rtds.Signed.First(s => s.Template.FileName == "ECS17b_4.1.1_SINGLE_SUCCESS_REQUEST_DUIS.XML");
        var requestId = RtdsTemplate.Parse(signed.Template.FileName, signed.Xml).RequestId;

        using var parsed = await rtds.Tooling.ParseAsync(signed.Xml);

        var header = parsed.RootElement.GetProperty("header");
        Assert.Equal("request", header.GetProperty("type").GetString());
        Assert.Equal("90-b3-d5-1f-30-01-00-00", header.GetProperty("requestId").GetProperty("originatorId").GetString());
        Assert.Equal("00-db-12-34-56-78-90-a0", header.GetProperty("requestId").GetProperty("targetId").GetString());
        Assert.Equal(requestId.Counter.ToString(System.Globalization.CultureInfo.InvariantCulture), header.GetProperty("requestId").GetProperty("counter").GetString());
        Assert.Equal(1, header.GetProperty("commandVariant").GetProperty("number").GetInt32());
        Assert.Equal("4.1.1", header.GetProperty("serviceReferenceVariant").GetProperty("Service Reference Variant").GetString());
        Assert.True(parsed.RootElement.GetProperty("body").TryGetProperty("ReadInstantaneousImportRegisters", out _));
    }

    [Fact]
    public async Task The_parser_refuses_a_document_that_is_not_DUIS()
    {
        var refusal = await Assert.ThrowsAsync<DuisParseException>(() => rtds.Tooling.ParseAsync("<NotDuis/>"));
        Assert.NotEmpty(refusal.Reason);
    }
}

using FsCheck;
using FsCheck.Xunit;
using OpenDcc.Core.Identifiers;

namespace OpenDcc.Core.Tests.Identifiers;

public class RequestIdTests
{
    private const string Originator = "90-B3-D5-1F-30-01-00-00";
    private const string Device = "00-DB-12-34-56-78-90-A4";

    [Fact]
    public void Duis_request_id_parses_into_originator_target_and_counter()
    {
        var id = RequestId.Parse($"{Originator}:{Device}:1000");

        Assert.Equal(Eui64.Parse(Originator), id.Originator);
        Assert.Equal(Eui64.Parse(Device), id.Target);
        Assert.Equal(1000UL, id.Counter);
        Assert.Equal($"{Originator}:{Device}:1000", id.ToString());
    }

    [Fact]
    public void Response_id_swaps_originator_and_target_and_keeps_the_counter()
    {
        var request = RequestId.Parse($"{Originator}:{Device}:42");

        var response = request.ToResponseId();

        Assert.Equal($"{Device}:{Originator}:42", response.ToString());
        Assert.Equal(request, response.ToResponseId());
    }

    [Theory]
    [InlineData("0", 0UL)]
    [InlineData("18446744073709551615", ulong.MaxValue)]
    [InlineData("007", 7UL)]
    public void Counter_covers_the_full_unsigned_64_bit_range(string counter, ulong expected)
    {
        Assert.Equal(expected, RequestId.Parse($"{Originator}:{Device}:{counter}").Counter);
    }

    [Theory]
    [InlineData("90-B3-D5-1F-30-01-00:" + Device + ":1", "invalid originator")]
    [InlineData(Originator + ":00-DB-12-34-56-78-90-G4:1", "invalid target")]
    [InlineData(Originator + ":" + Device + ":18446744073709551616", "counter 18446744073709551616, which exceeds")]
    [InlineData(Originator + ":" + Device + ":-1", "counter '-1'")]
    [InlineData(Originator + ":" + Device + ":", "counter ''")]
    [InlineData(Originator + ":" + Device + ":1A", "counter '1A'")]
    [InlineData(Originator + ":" + Device, "three parts separated by ':', not 2")]
    [InlineData(Originator + ":" + Device + ":1:2", "three parts separated by ':', not 4")]
    [InlineData(Originator + ": " + Device + ":1", "contains whitespace")]
    [InlineData("", "empty")]
    public void Malformed_request_id_is_rejected_naming_the_part_at_fault(string text, string expected)
    {
        Assert.False(RequestId.TryParse(text, out _, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Request_ids_order_by_originator_then_target_then_counter()
    {
        var a = RequestId.Parse($"{Originator}:{Device}:9");
        var b = RequestId.Parse($"{Originator}:{Device}:10");
        var c = RequestId.Parse($"{Device}:{Originator}:1");

        Assert.True(a.CompareTo(b) < 0);
        Assert.True(c.CompareTo(a) < 0);
    }

    [Property]
    public bool Parse_of_ToString_is_the_same_request_id(DoNotSize<ulong> originator, DoNotSize<ulong> target, DoNotSize<ulong> counter)
    {
        var id = new RequestId(new Eui64(originator.Item), new Eui64(target.Item), counter.Item);
        return RequestId.Parse(id.ToString()) == id;
    }
}

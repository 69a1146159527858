using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Identifiers;
using OpenDcc.Core.Parties;

namespace OpenDcc.Core.Tests.Parties;

public class DccUserTests
{
    private static readonly Eui64 Supplier = Eui64.Parse("90-B3-D5-1F-30-01-00-00");

    [Fact]
    public void User_keeps_its_fields_with_the_name_trimmed()
    {
        var user = new DccUser(Supplier, "  Test Supplier ", DccUserRole.ImportSupplier | DccUserRole.GasSupplier, DccUserStatus.Suspended, new Uri("https://supplier.example/duis"));

        Assert.Equal(Supplier, user.Id);
        Assert.Equal("Test Supplier", user.Name);
        Assert.Equal(DccUserRole.ImportSupplier | DccUserRole.GasSupplier, user.Roles);
        Assert.Equal(DccUserStatus.Suspended, user.Status);
        Assert.Equal(new Uri("https://supplier.example/duis"), user.ResponseUrl);
    }

    [Fact]
    public void New_user_is_active_with_no_response_url_by_default()
    {
        var user = new DccUser(Supplier, "Supplier", DccUserRole.ImportSupplier);

        Assert.Equal(DccUserStatus.Active, user.Status);
        Assert.Null(user.ResponseUrl);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    public void User_without_a_name_is_rejected(string? name)
    {
        var error = Assert.Throws<ArgumentException>(() => new DccUser(Supplier, name!, DccUserRole.ImportSupplier));

        Assert.Equal("name", error.ParamName);
    }

    [Fact]
    public void User_without_a_role_is_rejected()
    {
        var error = Assert.Throws<ArgumentException>(() => new DccUser(Supplier, "Supplier", DccUserRole.None));

        Assert.Equal("roles", error.ParamName);
    }

    [Theory]
    [InlineData("/duis/responses", UriKind.Relative)]
    [InlineData("ftp://supplier.example/duis", UriKind.Absolute)]
    [InlineData("file:///var/duis", UriKind.Absolute)]
    public void Response_url_that_is_not_absolute_http_or_https_is_rejected(string url, UriKind kind)
    {
        var error = Assert.Throws<ArgumentException>(() => new DccUser(Supplier, "Supplier", DccUserRole.ImportSupplier, responseUrl: new Uri(url, kind)));

        Assert.Equal("responseUrl", error.ParamName);
        Assert.Contains(url, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://localhost:8080/duis")]
    [InlineData("https://supplier.example/duis")]
    public void Http_and_https_response_urls_are_accepted(string url)
    {
        var user = new DccUser(Supplier, "Supplier", DccUserRole.ImportSupplier, responseUrl: new Uri(url));

        Assert.Equal(new Uri(url), user.ResponseUrl);
    }

    [Fact]
    public void Status_can_change_without_touching_the_rest()
    {
        var user = new DccUser(Supplier, "Supplier", DccUserRole.ImportSupplier);

        var withdrawn = user with { Status = DccUserStatus.Withdrawn };

        Assert.Equal(DccUserStatus.Withdrawn, withdrawn.Status);
        Assert.Equal(user.Name, withdrawn.Name);
        Assert.NotEqual(user, withdrawn);
    }
}

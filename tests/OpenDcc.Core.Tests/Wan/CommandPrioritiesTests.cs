using NodaTime;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Translation;
using OpenDcc.Core.Wan;

namespace OpenDcc.Core.Tests.Wan;

public class CommandPrioritiesTests
{
    [Theory]
    [InlineData("7.2", CommandPriority.Critical)]
    [InlineData("11.3", CommandPriority.Critical)]
    [InlineData("2.2", CommandPriority.Prepayment)]
    [InlineData("4.18", CommandPriority.Prepayment)]
    [InlineData("4.1.1", CommandPriority.Normal)]
    [InlineData("7.4", CommandPriority.Normal)]
    [InlineData("4.8.1", CommandPriority.Bulk)]
    public void Critical_commands_go_first_then_prepayment_then_the_rest_and_profile_reads_last(string srv, CommandPriority expected)
    {
        var variant = ServiceCatalogue.Duis[srv];
        DeviceOperation operation = srv switch
        {
            "7.2" => new DeviceOperation.SetSupply(SupplyState.Disabled),
            "11.3" => new DeviceOperation.ActivateFirmware("AA"),
            "2.2" => new DeviceOperation.TopUp("00050073946144332041"),
            "4.18" => new DeviceOperation.ReadMeterBalance(),
            "7.4" => new DeviceOperation.ReadSupplyStatus(),
            "4.8.1" => new DeviceOperation.ReadProfile(Instant.FromUtc(2026, 11, 1, 0, 0), Instant.FromUtc(2026, 11, 2, 0, 0)),
            _ => new DeviceOperation.ReadImportRegisters(),
        };

        Assert.Equal(expected, CommandPriorities.Of(variant, operation));
    }
}

using System.Xml.Linq;
using Microsoft.Extensions.DependencyInjection;
using OpenDcc.Core.Catalogue;
using OpenDcc.Core.Duis;
using OpenDcc.Core.Inventory;
using OpenDcc.Core.Translation;
using OpenDcc.Core.Wan;
using OpenDcc.Hub.Grains;
using Orleans.Serialization;
using Orleans.Serialization.Cloning;

namespace OpenDcc.Hub.Tests;

/// <summary>How a queued command travels to its comms hub's grain: as it is within a silo, by its body between silos.</summary>
public sealed class QueuedCommandTransportTests
{
    private static readonly ServiceProvider Orleans = new ServiceCollection().AddSerializer().BuildServiceProvider();

    private static QueuedCommand Command(out DeviceOperation operation)
    {
        var body = new XElement(DuisNamespaces.Sr + ServiceCatalogue.Duis["4.8.1"].BodyElement,
            new XElement(DuisNamespaces.Sr + "ReadLogPeriod",
                new XElement(DuisNamespaces.Sr + "StartDateTime", "2026-11-01T00:00:00Z"),
                new XElement(DuisNamespaces.Sr + "EndDateTime", "2026-11-02T00:00:00Z")));
        Assert.True(DuisOperations.TryRead("4.8.1", body, GatewayResponseCodes.Default, out var read, out var refusal), refusal?.Reason);
        operation = read!;
        var request = new DuisRequest(new Core.Identifiers.RequestId(new(0x90B3D51F30010000), new(0x0012340000000001), 7), 1, ServiceCatalogue.Duis["4.8.1"], "5.1", null, null, body);
        return new QueuedCommand(request.RequestId, "4.8.1", "5.1", request.BodyText(), request.RequestId.Originator, DeviceAnswerRoute.OpenDccRead,
            CommandPriority.Bulk, "GBCS-REF", DeviceType.ESME, request.RequestId.Target, WanRegion.North) { Operation = operation };
    }

    [Fact]
    public void Within_a_silo_the_grain_gets_the_command_itself_with_the_operation_read_at_submission()
    {
        var command = Command(out var operation);

        var copy = Orleans.GetRequiredService<DeepCopier<QueuedCommand>>().Copy(command);

        Assert.Same(command, copy);
        Assert.Equal(operation, copy.Operation);
    }

    [Fact]
    public void Between_silos_the_operation_is_not_sent_and_the_body_reads_back_to_the_same_operation()
    {
        var command = Command(out var operation);
        var serializer = Orleans.GetRequiredService<Serializer<QueuedCommand>>();

        var received = serializer.Deserialize(serializer.SerializeToArray(command))!;

        Assert.Null(received.Operation);
        Assert.Equal(command with { Operation = null }, received);
        Assert.True(DuisOperations.TryRead(received.ServiceReferenceVariant, XElement.Parse(received.Body), GatewayResponseCodes.Default, out var reread, out _));
        Assert.Equal(operation, reread);
    }
}

namespace Uet.Tests.Telemetry;

internal sealed record OtlpSpan(string TraceId, string SpanId, string? ParentSpanId, string Name, ulong StartNanos, ulong EndNanos, IReadOnlyDictionary<string, string> Attributes);

/// <summary>
/// Just enough protobuf to read an OTLP ExportTraceServiceRequest: resource_spans(1) > scope_spans(2) > spans(2), and
/// of a span its trace_id(1), span_id(2), parent_span_id(4), name(5), start(7), end(8) and string attributes(9).
/// </summary>
internal static class OtlpProtobuf
{
    public static IEnumerable<OtlpSpan> Spans(byte[] request)
    {
        foreach (var resourceSpans in Fields(request).Where(f => f.Number == 1))
        {
            foreach (var scopeSpans in Fields(resourceSpans.Bytes!).Where(f => f.Number == 2))
            {
                foreach (var span in Fields(scopeSpans.Bytes!).Where(f => f.Number == 2))
                {
                    yield return Span(span.Bytes!);
                }
            }
        }
    }

    private static OtlpSpan Span(byte[] bytes)
    {
        string? trace = null, id = null, parent = null, name = null;
        ulong start = 0, end = 0;
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var f in Fields(bytes))
        {
            switch (f.Number)
            {
                case 1: trace = Convert.ToHexStringLower(f.Bytes!); break;
                case 2: id = Convert.ToHexStringLower(f.Bytes!); break;
                case 4: parent = f.Bytes!.Length == 0 ? null : Convert.ToHexStringLower(f.Bytes!); break;
                case 5: name = System.Text.Encoding.UTF8.GetString(f.Bytes!); break;
                case 7: start = f.Value; break;
                case 8: end = f.Value; break;
                case 9:
                    var key = Fields(f.Bytes!).First(k => k.Number == 1);
                    var value = Fields(f.Bytes!).FirstOrDefault(k => k.Number == 2);
                    // AnyValue: string_value(1), int_value(3).
                    Field? any = value.Bytes is null ? null : Fields(value.Bytes).FirstOrDefault();
                    attributes[System.Text.Encoding.UTF8.GetString(key.Bytes!)] = any switch
                    {
                        { Number: 1, Bytes: { } s } => System.Text.Encoding.UTF8.GetString(s),
                        { Number: 3 } n => n.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        _ => string.Empty,
                    };
                    break;
            }
        }

        return new OtlpSpan(trace!, id!, parent, name!, start, end, attributes);
    }

    private readonly record struct Field(int Number, ulong Value, byte[]? Bytes);

    private static List<Field> Fields(byte[] data)
    {
        var fields = new List<Field>();
        var i = 0;
        while (i < data.Length)
        {
            var tag = Varint(data, ref i);
            var number = (int)(tag >> 3);
            switch ((int)(tag & 7))
            {
                case 0:
                    fields.Add(new Field(number, Varint(data, ref i), null));
                    break;
                case 1:
                    fields.Add(new Field(number, BitConverter.ToUInt64(data, i), null));
                    i += 8;
                    break;
                case 2:
                    var length = (int)Varint(data, ref i);
                    fields.Add(new Field(number, 0, data[i..(i + length)]));
                    i += length;
                    break;
                case 5:
                    fields.Add(new Field(number, BitConverter.ToUInt32(data, i), null));
                    i += 4;
                    break;
                default:
                    throw new InvalidDataException($"unexpected protobuf wire type {tag & 7} at byte {i}");
            }
        }

        return fields;
    }

    private static ulong Varint(byte[] data, ref int i)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = data[i++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }
}

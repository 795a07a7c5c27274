import NNsightWorkbench
import Testing

@Suite struct ServerEventTests {
    @Test func multiLinePayloadsBecomeOneDataLineEach() {
        // A picture spans many lines; each must be its own `data:` line or the browser would
        // read the rest as new fields.
        #expect(ServerEvent.picture("<svg>\n<g/>\r\n</svg>").encoded == "event: picture\ndata: <svg>\ndata: <g/>\ndata: </svg>\n\n")
        #expect(ServerEvent.error("bad").encoded == "event: failure\ndata: bad\n\n")
        #expect(ServerEvent.done.encoded == "event: done\ndata: \n\n")
    }
}

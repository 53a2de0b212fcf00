package org.postern.smtp.client.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.postern.smtp.client.Reply;

class ReplyParserTest {
    private final ReplyParser parser = new ReplyParser();

    @Test
    void aMultiLineReplyWithEnhancedCodesOnEveryLine() throws Exception {
        assertNull(parser.accept("452-4.2.2 Mailbox full"));
        Reply reply = parser.accept("452 4.2.2 try later");
        assertEquals(new Reply(452, "4.2.2", List.of("Mailbox full", "try later")), reply);
    }

    @Test
    void anEnhancedCodeOfAnotherClassIsText() throws Exception {
        assertEquals(new Reply(250, "", List.of("5.1.1 is a fine version")), parser.accept("250 5.1.1 is a fine version"));
        assertEquals(new Reply(250, "", List.of("")), parser.accept("250"));
    }

    @Test
    void malformedRepliesAreProtocolErrors() throws Exception {
        assertThrows(ProtocolException.class, () -> parser.accept("hello"));
        assertThrows(ProtocolException.class, () -> new ReplyParser().accept("25 short"));
        ReplyParser changing = new ReplyParser();
        changing.accept("250-first");
        assertThrows(ProtocolException.class, () -> changing.accept("251 second"));
        ReplyParser endless = new ReplyParser();
        for (int i = 0; i < ReplyParser.MAX_LINES; i++) {
            endless.accept("250-more");
        }
        assertThrows(ProtocolException.class, () -> endless.accept("250-more"));
    }
}

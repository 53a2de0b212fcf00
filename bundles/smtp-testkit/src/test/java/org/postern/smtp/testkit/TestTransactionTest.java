package org.postern.smtp.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.MessageHeader;

class TestTransactionTest {
    @Test
    void theMessagesHeaderSectionIsParsedAndEditable() {
        TestTransaction transaction = new TestTransaction();
        assertTrue(transaction.header().isEmpty());
        MessageHeader header = transaction.message("Subject: hello\r\n world\r\nReceived: a\r\nreceived: b\r\n\r\nbody\r\n").header().orElseThrow();
        assertEquals(List.of("hello world"), header.get("subject"));
        assertEquals(List.of("a", "b"), header.get("Received"));
        header.set("Subject", "changed");
        assertEquals(List.of("changed"), header.get("Subject"));
        assertEquals(2, header.remove("RECEIVED"));
    }
}

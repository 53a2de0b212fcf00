package org.postern.smtp.plugin.arc.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** The configuration both hooks of the plugin read; a double underscore in a method name is an underscore in the key. */
@ObjectClassDefinition(name = "Postern plugin: arc", description = "Verifies ARC chains (RFC 8617) and seals the mail this server passes on")
public @interface ArcConfig {
    String PID = "org.postern.smtp.plugin.arc";

    @AttributeDefinition(description = "Which messages are sealed: none, relay (authenticated and relay clients) or all (a forwarder, a list server)")
    String seal() default "none";

    @AttributeDefinition(name = "seal_domain", description = "The sealing domain, d= of the ARC-Message-Signature and ARC-Seal")
    String seal__domain() default "";

    @AttributeDefinition(name = "seal_selector", description = "The selector, s=; empty: the first line of <key_folder>/<seal_domain>/selector")
    String seal__selector() default "";

    @AttributeDefinition(name = "seal_key", description = "The RSA private key (PEM); empty: <key_folder>/<seal_domain>/private")
    String seal__key() default "";

    @AttributeDefinition(name = "key_folder", description = "The dkim plugin's key folder; empty: <etc>/dkim")
    String key__folder() default "";

    @AttributeDefinition(name = "sign_headers", description = "The fields the ARC-Message-Signature signs, each as often as the message has it")
    String[] sign__headers() default {"From", "Reply-To", "Subject", "Date", "To", "Cc", "Message-ID", "In-Reply-To", "References",
        "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post",
        "DKIM-Signature"};

}

import Testing
@testable import VoiceFlowCommon

@Suite(.timeLimit(.minutes(3))) struct SQLStatementSplitterTests {
    @Test func splitsOnSemicolonsOutsideQuotesAndComments() throws {
        let script = """
            -- a comment; with a semicolon
            CREATE TABLE a (x TEXT DEFAULT 'semi;colon');
            /* block; comment */
            INSERT INTO "odd;name" VALUES (1);
            CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;
            """
        let statements = try SQLStatementSplitter.split(script)
        #expect(statements == [
            "CREATE TABLE a (x TEXT DEFAULT 'semi;colon')",
            "INSERT INTO \"odd;name\" VALUES (1)",
            "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql",
        ])
    }

    @Test func refusesUnterminatedStrings() {
        #expect(throws: MigrationError.self) { try SQLStatementSplitter.split("SELECT 'oops") }
        #expect(throws: MigrationError.self) { try SQLStatementSplitter.split("SELECT $x$ never closed") }
    }

    @Test func bundledMigrationsAreOrderedAndParse() throws {
        let migrations = try Migration.bundled()
        #expect(migrations.first?.version == 1)
        #expect(migrations.map(\.version) == migrations.map(\.version).sorted())
        for migration in migrations {
            #expect(try !SQLStatementSplitter.split(migration.sql).isEmpty)
        }
    }
}

// The compiled library reads its migrations and sample reports next to its modules, as the sources do.
import { cpSync } from 'node:fs';

cpSync('src/store/migrations', 'dist/lib/store/migrations', { recursive: true });
cpSync('src/seed/reports', 'dist/lib/seed/reports', { recursive: true });

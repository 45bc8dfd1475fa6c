#!/usr/bin/env node
import '../lib/server/cli.js';
